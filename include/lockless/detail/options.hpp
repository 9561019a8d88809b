// lockless/detail/options.hpp: how a structure takes its options (the options form).
//
// THE RULE (docs/design.md, "Policies by name")
//   Types are positional type parameters with defaults, as in the standard containers:
//     treiber_stack<T, Reclaimer = epoch_reclaimer>
//   Every value knob of a structure goes into one aggregate options struct, passed as a
//   non-type template parameter and written with designated initializers, so each knob is
//   named where it is set and every other knob keeps its documented default:
//     bounded_queue<T, queue_options{.may_block = false}>
//   Runtime quantities (a capacity, a number of flows) stay constructor arguments.
//   Macros are only for platform overrides (LOCKLESS_CACHE_LINE_SIZE) and the checker
//   builds (LOCKLESS_RELACY, LOCKLESS_DSCHED).
//
// WHAT AN OPTIONS STRUCT IS
//   An aggregate, default-constructible (every field has a default member initializer,
//   documented next to it), trivially copyable, and structural (public members of scalar
//   or structural type only), so it can be a template argument: two structures with equal
//   options are the same type. It may have a `consteval void validate() const` that calls
//   require_option() for each rule its fields must obey; a structure checks its options
//   with static_assert(detail::valid_options<Options>), and a violated rule stops the
//   compilation with the rule's message in the diagnostic.
//
//     struct queue_options {
//       bool may_block = true;          // false: no blocking push/pop (no parking word)
//       unsigned spin_rounds = 64;      // spins before a blocking call parks
//       consteval void validate() const {
//         detail::require_option(spin_rounds <= 1u << 16, "queue_options::spin_rounds too large");
//       }
//     };
//     template <class T, queue_options Options = queue_options{}>
//     class bounded_queue {
//       static_assert(detail::valid_options<Options>);
//       ...
//     };
#pragma once

#include <type_traits>

#include "config.hpp"

namespace lockless::inline LOCKLESS_ABI_NAMESPACE::detail {

template <class O>
concept options_type =
    std::is_aggregate_v<O> && std::is_default_constructible_v<O> && std::is_trivially_copyable_v<O>;

// Deliberately not constexpr: reaching it during constant evaluation is the compile error,
// and the diagnostic quotes the message passed to require_option().
inline void option_rule_violated(const char* message) noexcept {
  (void)message;
}

// For an options struct's consteval validate(): fails the compilation unless `ok`.
consteval void require_option(bool ok, const char* message) {
  if (!ok) option_rule_violated(message);
}

// True when Options is an options struct whose validate() (if it has one) accepts it;
// otherwise the program does not compile.
template <auto Options>
  requires options_type<decltype(Options)>
inline constexpr bool valid_options = [] {
  if constexpr (requires { Options.validate(); }) Options.validate();
  return true;
}();

}  // namespace lockless::inline LOCKLESS_ABI_NAMESPACE::detail
