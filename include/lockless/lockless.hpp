// lockless/lockless.hpp: the whole library in one include.
#pragma once

#include "epoch.hpp"          // IWYU pragma: export
#include "treiber_stack.hpp"  // IWYU pragma: export
