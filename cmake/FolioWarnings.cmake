# Warnings for Folio's own targets. FOLIO_WERROR (on in CI) turns them into errors.
option(FOLIO_WERROR "Treat warnings as errors" OFF)

function(folio_target_warnings target)
  target_compile_options(${target} PRIVATE
    $<$<COMPILE_LANGUAGE:CXX,C>:-Wall -Wextra -Wno-unused-parameter>
    $<$<AND:$<BOOL:${FOLIO_WERROR}>,$<COMPILE_LANGUAGE:CXX,C>>:-Werror>)
endfunction()
