#pragma once
// Internal: the summary of a parsed GGUF header, shared by the remote reader and tests that
// compare it with a local file.
#include <cstdint>

#include "folio/hub.h"
#include "gguf/gguf_file.h"

namespace folio::hub {

// Architecture, counts and weight type of `f`; file_size and header_bytes are left to the caller.
RemoteGgufInfo summarize_gguf(const gguf::GgufFile& f);

// Name of a llama.cpp general.file_type value ("Q4_K_M"); empty when unknown.
std::string file_type_name(int64_t file_type);

}  // namespace folio::hub
