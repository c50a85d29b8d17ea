// Model summaries: one line of `hubfs ls` / `hubfs search` per model folder of a hub's listing,
// read from the documents the listing already carries (no I/O):
//
//   onnx       <domain>/<slug>/info.json (the model's manifest entries): name = "model",
//              version = the opsets, tags = the union of metadata.tags, size = model_bytes of the
//              largest opset (the file model.onnx points to), framework "onnx"
//   digits     <store>/<model>/info.json: name = "name", framework = "framework" (lower-cased),
//              version = "<framework> version"; tags = aux.json "dataset"; size unknown (stores
//              publish none)
//   mindspore  <version>/<model>/<model>.md front matter: name = model-name, version =
//              model-version, tags = module-type, backbone-name, train-dataset; framework
//              "mindspore"; size unknown
//   hf         one line per repository folder: see hf_summary.h
//
// Folders whose document is missing or unusable are not models and are left out; a DIGITS store
// that could not be listed (its ERROR.txt) is reported in `failures`.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hubfs/hubs/hf/hf_api.h"
#include "hubfs/hubs/hub.h"

namespace hubfs::app {

struct ModelSummary {
  std::string hub;    // the hub's folder name
  std::string path;   // the model's folder below the hub, '/'-separated
  std::string name;   // as the hub names it
  std::string version;       // "" when unknown; ONNX: the opsets, e.g. "8,12"
  std::vector<int> opsets;   // ONNX only, ascending
  std::string framework;     // lower-case; "" when unknown
  std::vector<std::string> tags;
  std::optional<uint64_t> size;  // bytes of the model file, when the hub publishes it
  // Hugging Face repositories: how many files the folder lists (size is their total), and
  // whether downloads need a token (gated). nullopt/false for other hubs.
  std::optional<uint64_t> files;
  bool gated = false;
};

struct Summaries {
  std::vector<ModelSummary> models;  // in listing order
  std::vector<std::string> failures;  // "<folder>: <why>" for parts that could not be listed
};

// The body of a Hugging Face repository's repo-info document, when one is known.
using RepoInfoOf = std::function<std::optional<std::string>(const hubs::hf::RepoRef&)>;

// `hub_type` is the configuration's type ("onnx", "digits", "mindspore", "hf"). `repo_info` is
// used for "hf" hubs only, and may be empty.
Summaries SummarizeListing(std::string_view hub_type, const std::string& hub_name, const hubs::Listing& listing,
                           const RepoInfoOf& repo_info = {});

// For each model without a size, sets it to the total size of the remote files below its folder
// when `size_of` knows every one (DIGITS and MindSpore publish no sizes; a mount learns them).
// Models with no remote file, or one of unknown size, keep none.
void AddFolderSizes(const hubs::Listing& listing,
                    const std::function<std::optional<uint64_t>(const hubs::RemoteObject&)>& size_of,
                    std::vector<ModelSummary>* models);

}  // namespace hubfs::app
