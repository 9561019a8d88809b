// tests/unit/detail_options.cpp: the options form (lockless/detail/options.hpp), shown on
// a toy structure: named knobs by designated initializers, defaults for the rest, equal
// options give the same type, validate() runs at compile time.
#include <gtest/gtest.h>

#include <type_traits>

#include <lockless/detail/options.hpp>

namespace {

struct toy_options {
  bool may_block = true;  // the default of every knob is written here, once
  unsigned spin_rounds = 64;
  consteval void validate() const {
    lockless::detail::require_option(spin_rounds <= 1024, "toy_options::spin_rounds > 1024");
  }
};

struct no_rules {
  int knob = 3;
};

template <class T, toy_options Options = toy_options{}>
struct toy_structure {
  static_assert(lockless::detail::valid_options<Options>);
  static constexpr toy_options options = Options;
  T value{};
};

static_assert(lockless::detail::options_type<toy_options>);
static_assert(lockless::detail::options_type<no_rules>);
static_assert(!lockless::detail::options_type<int>);
static_assert(lockless::detail::valid_options<no_rules{.knob = 4}>);

// Equal options name the same type; different options a different one.
static_assert(std::is_same_v<toy_structure<int>, toy_structure<int, toy_options{}>>);
static_assert(
    std::is_same_v<toy_structure<int, toy_options{.spin_rounds = 64}>, toy_structure<int>>);
static_assert(
    !std::is_same_v<toy_structure<int, toy_options{.may_block = false}>, toy_structure<int>>);

// Uncommenting this line must fail to compile, quoting "toy_options::spin_rounds > 1024":
//   toy_structure<int, toy_options{.spin_rounds = 4096}> too_many;

TEST(DetailOptions, NamedKnobsKeepTheOtherDefaults) {
  using non_blocking = toy_structure<int, toy_options{.may_block = false}>;
  EXPECT_FALSE(non_blocking::options.may_block);
  EXPECT_EQ(non_blocking::options.spin_rounds, 64u);
  using tuned = toy_structure<int, toy_options{.spin_rounds = 8}>;
  EXPECT_TRUE(tuned::options.may_block);
  EXPECT_EQ(tuned::options.spin_rounds, 8u);
}

}  // namespace
