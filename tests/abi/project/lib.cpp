// The callee's half, as a library built with other settings would define it.
#include <lockless/epoch.hpp>

void use(lockless::epoch_domain& d) {
  d.barrier();
}
