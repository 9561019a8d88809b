// bench/support/libcds_runtime.hpp: the libcds set-up every libcds peer needs.
#pragma once

#if defined(LOCKLESS_HAVE_LIBCDS)
#include <cds/gc/dhp.h>
#include <cds/gc/hp.h>
#include <cds/init.h>
#include <cds/threading/model.h>

namespace lockless_bench {

// libcds needs cds::Initialize(), one object per garbage collector (a singleton behind
// the scenes) and every thread attached (cds::threading::Manager::attachThread) before it
// touches a container. The runtime is created once and never destroyed: threads may still
// be attached when static destructors run. Threads attach lazily; a thread_local guard
// detaches at thread exit, which matters because Google Benchmark starts new threads for
// every run and HP has a fixed number of thread slots (100 by default).
struct libcds_runtime {
  libcds_runtime() {
    cds::Initialize();
    hp = new cds::gc::HP();    // 8 hazard pointers per thread, 100 threads (defaults)
    dhp = new cds::gc::DHP();  // dynamic number of guards per thread
  }
  cds::gc::HP* hp;
  cds::gc::DHP* dhp;

  static void ensure() {
    static libcds_runtime* rt = new libcds_runtime;  // leaked on purpose (see above)
    (void)rt;
  }
};

struct libcds_thread_attachment {
  libcds_thread_attachment() {
    libcds_runtime::ensure();
    if (!cds::threading::Manager::isThreadAttached()) {
      cds::threading::Manager::attachThread();
      attached = true;
    }
  }
  ~libcds_thread_attachment() {
    if (attached) cds::threading::Manager::detachThread();
  }
  libcds_thread_attachment(const libcds_thread_attachment&) = delete;
  libcds_thread_attachment& operator=(const libcds_thread_attachment&) = delete;
  bool attached = false;
};

// Attaches the calling thread to libcds on its first call (cheap afterwards).
inline void libcds_attach_this_thread() {
  static thread_local libcds_thread_attachment attachment;
  (void)attachment;
}

}  // namespace lockless_bench

#endif  // LOCKLESS_HAVE_LIBCDS
