// lockless/detail/histogram_exposition.hpp: the Prometheus exposition formats of
// histogram.hpp (text 0.0.4, OpenMetrics text, protobuf). Included by histogram.hpp only.
// (Being written; see histogram.hpp.)
#pragma once
