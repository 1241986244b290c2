#pragma once
// Recursive-descent parser from tokens to the statement tree. Nesting of expressions and blocks
// is bounded (kMaxParseDepth) so that a hostile template cannot overflow the stack.
#include <string>
#include <vector>

#include "chat/jinja/ast.h"
#include "chat/jinja/lexer.h"

namespace folio::chat::jinja {

constexpr int kMaxParseDepth = 200;

// Throws TemplateError "chat template LINE:COL: ..." on a syntax error.
Body parse(const std::vector<Token>& tokens, const SourceMap& map);

}  // namespace folio::chat::jinja
