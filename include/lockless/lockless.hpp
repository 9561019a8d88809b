// lockless/lockless.hpp: the whole library in one include.
#pragma once

#include "bounded_queue.hpp"      // IWYU pragma: export
#include "drr_scheduler.hpp"      // IWYU pragma: export
#include "elimination_stack.hpp"  // IWYU pragma: export
#include "epoch.hpp"              // IWYU pragma: export
#include "histogram.hpp"          // IWYU pragma: export
#include "queue_status.hpp"       // IWYU pragma: export
#include "treiber_stack.hpp"      // IWYU pragma: export
#include "unbounded_queue.hpp"    // IWYU pragma: export
