// tests/structures/elimination_stack_ops.hpp: elimination_stack's operation alphabet.
//
// elimination_stack has treiber_stack's interface (it is treiber_stack's code with another
// contention policy, elimination_stack.hpp), so it has treiber_stack's alphabet, not a copy
// of it: every layer that spells elimination_stack operations uses
// elimination_stack_ops::op, which IS treiber_stack_ops::op (same letters, same fuzz byte
// decoder, same script mix). The one operation whose meaning widens is `stats`: on an
// elimination_stack it also reads range() and, with elimination_options::statistics,
// stats().
#pragma once

#include "structures/treiber_stack_ops.hpp"

namespace lockless::test {
namespace elimination_stack_ops = treiber_stack_ops;
using elimination_stack_op = elimination_stack_ops::op;
}  // namespace lockless::test
