// The caller's half: declares use() and passes it a domain of its own layout.
#include <lockless/epoch.hpp>

void use(lockless::epoch_domain& d);

int main() {
  lockless::epoch_domain d;
  use(d);
  return 0;
}
