// tests/support/relacy_pch_host.cpp: the one source of the Relacy precompiled-header hosts
// (tests/relacy/CMakeLists.txt): every Relacy program reuses the prelude compiled here.
#include "support/relacy_prelude.hpp"
