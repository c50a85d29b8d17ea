// Which model summaries `hubfs ls` and `hubfs search` show. Every set criterion must hold:
//   tags            any-match: the model has at least one of them (case-insensitive), as onnx.hub's
//                   list_models(tags=...) does
//   framework       equal, case-insensitive ("onnx", "caffe", "torch", "mindspore", ...)
//   name_contains   case-insensitive substring of the model's name
//   path            "" (all), or a folder below the hub: models at or below it, or the model
//                   folder that contains it (a file's path selects its model)
#pragma once

#include <string>
#include <vector>

#include "model_summary.h"

namespace hubfs::app {

struct ModelFilter {
  std::vector<std::string> tags;
  std::string framework;
  std::string name_contains;
  std::string path;  // '/'-separated, without leading or trailing '/'
};

bool Matches(const ModelFilter& filter, const ModelSummary& model);

// The models that match, in their order.
std::vector<ModelSummary> Select(const ModelFilter& filter, const std::vector<ModelSummary>& models);

}  // namespace hubfs::app
