// Relacy: lockless::bounded_queue (Vyukov's ring with give-ups), with the real header.
// Scenarios and what each execution is checked for in bounded_queue_scenarios.hpp; mutants
// in bounded_queue_mutants.cpp/.cmake.
//
// Usage: relacy_bounded_queue [random <iterations> | bound <context bound> | full]
//        (overrides every check's plan, for reproducing or exploring further)
#include "support/relacy_prelude.hpp"

#include "bounded_queue_scenarios.hpp"
#include "support/relacy_runner.hpp"

using namespace lockless_relacy;

int main(int argc, char** argv) {
  if (!parse_args(argc, argv)) return 2;
  report r;
  // Blocking forms: random schedules; the small close scenarios also every schedule with
  // at most one preemption (bq_pingpong at bound 1 is 3 M executions, 110 s: too dear).
  r.run<bq_pingpong>("bq_pingpong", random_plan(500000));
  r.run<bq_close_blocked_pop>("bq_close_blocked_pop", random_plan(200000));
  r.run<bq_close_blocked_pop>("bq_close_blocked_pop", bound_plan(1));
  r.run<bq_close_two_waiters>("bq_close_two_waiters", random_plan(200000));
  r.run<bq_close_two_waiters>("bq_close_two_waiters", bound_plan(1));
  r.run<bq_close_blocked_push>("bq_close_blocked_push", random_plan(200000));
  r.run<bq_close_blocked_push>("bq_close_blocked_push", bound_plan(1));
  // Try forms: close racing pushes, full/empty transitions, wraparound.
  r.run<bq_close_push>("bq_close_push", random_plan(500000));
  r.run<bq_try_cap1>("bq_try_cap1", random_plan(1000000));
  r.run<bq_try_spsc_cap2>("bq_try_spsc_cap2", random_plan(600000));
  r.run<bq_try_three>("bq_try_three", random_plan(600000));
  r.run<bq_try_cap1_notify>("bq_try_cap1_notify", random_plan(200000));
  // is_closed() against a pop that read the marker.
  r.run<bq_close_observe>("bq_close_observe", random_plan(200000));
  r.run<bq_close_observe>("bq_close_observe", bound_plan(1));
  // The give-ups: each is reached with one preemption, so context bounds explore them
  // (random schedules rarely suspend a thread long enough to carry one through).
  r.run<bq_pop_give_up>("bq_pop_give_up", bound_plan(2));
  r.run<bq_pop_give_up_closed>("bq_pop_give_up_closed", bound_plan(2));
  r.run<bq_push_give_up>("bq_push_give_up", bound_plan(2));
  r.run<bq_give_up_both>("bq_give_up_both", bound_plan(1));
  r.run<bq_give_up_both>("bq_give_up_both", random_plan(200000));
  // Two push-then-pop threads: neither pop may say empty.
  r.run<bq_push_pop_pairs>("bq_push_pop_pairs", bound_plan(2));
  // order_: a pop answering empty from its cell, the mark and the clearing.
  r.run<bq_order_mark>("bq_order_mark", bound_plan(1));
  r.run<bq_order_mark>("bq_order_mark", random_plan(200000));
  // bq_order_clear's mutant needs three preemptions; every schedule with two is 26 M
  // executions (190 s), so random ones (the mutant falls at 265,188).
  r.run<bq_order_clear>("bq_order_clear", random_plan(300000));
  r.run<bq_order_close>("bq_order_close", random_plan(200000));
  r.run<bq_order_close>("bq_order_close", bound_plan(1));
  r.run<bq_order_pingpong>("bq_order_pingpong", random_plan(200000));
  return r.exit_code();
}
