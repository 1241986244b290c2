#pragma once
// The parsed template: expression and statement nodes. Each node records its source offset so
// that runtime errors name a line and column. Nodes are immutable after parsing.
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "chat/jinja/value.h"

namespace folio::chat::jinja {

struct Expr;
struct Stmt;
using ExprPtr = std::unique_ptr<Expr>;
using StmtPtr = std::unique_ptr<Stmt>;
using Body = std::vector<StmtPtr>;

enum class ExprKind {
    Literal,  // value
    Name,     // name
    Attr,     // a.name
    Item,     // a[index]
    Slice,    // a[start:stop:step]
    Call,     // callee(args)
    Filter,   // a | name(args)
    Test,     // a is [not] name(args)
    Unary,    // op a         (not, -, +)
    Binary,   // a op b       (and or + - * / // % ** ~ == != < > <= >= in, "not in")
    Cond,     // a if cond else b
    List,     // [a, b]
    Tuple,    // (a, b)
    Dict,     // {k: v}
};

struct Arg {
    std::string name;  // empty: positional
    ExprPtr value;
};

struct Expr {
    ExprKind kind;
    size_t offset = 0;
    Value value;           // Literal
    std::string name;      // Name, Attr, Filter, Test, Unary/Binary operator
    bool negated = false;  // Test: `is not`
    ExprPtr a, b, c;       // operands: Attr/Item/Slice/Call/Filter/Test/Unary: a; Binary: a,b;
                           // Cond: a (then), b (cond), c (else, may be null); Item: b (index);
                           // Slice: b, c, d (each may be null)
    ExprPtr d;
    std::vector<Arg> args;       // Call/Filter/Test arguments
    std::vector<ExprPtr> items;  // List/Tuple elements; Dict: keys and values interleaved

    Expr(ExprKind k, size_t off) : kind(k), offset(off) {}
};

enum class StmtKind {
    Text,         // text
    Output,       // {{ expr }}
    If,           // branches
    For,          // {% for targets in iter if filter %} body {% else %} else_body
    Set,          // {% set target = expr %} (targets, or attr on a namespace)
    SetBlock,     // {% set name %}body{% endset %}
    Macro,        // {% macro name(params) %}
    CallBlock,    // {% call macro(args) %}body{% endcall %}: body becomes caller()
    FilterBlock,  // {% filter name %}body{% endfilter %}
    Break,
    Continue,
    Scope,  // a body with no semantics of its own ({% generation %})
    Do,     // {% do expr %}
};

struct MacroParam {
    std::string name;
    ExprPtr default_value;  // may be null
};

struct Stmt {
    StmtKind kind;
    size_t offset = 0;
    std::string text;                  // Text; Set/SetBlock/Macro name
    ExprPtr expr;                      // Output/Set value/For iterable/Do/CallBlock call
    ExprPtr filter;                    // For: loop filter; FilterBlock: filter call
    std::vector<std::string> targets;  // For/Set: names (tuple unpacking)
    ExprPtr attr_object;               // Set: `ns.attr = ...` object (text = attr)
    std::vector<std::pair<ExprPtr, Body>> branches;  // If: (cond, body)...
    Body body;                                       // For/SetBlock/Macro/Scope/CallBlock body
    Body else_body;                                  // If/For
    std::vector<MacroParam> params;                  // Macro / CallBlock caller params

    Stmt(StmtKind k, size_t off) : kind(k), offset(off) {}
};

}  // namespace folio::chat::jinja
