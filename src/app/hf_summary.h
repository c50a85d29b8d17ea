// Model summaries of a Hugging Face hub (type "hf"): one per repository folder of its listing,
// [datasets/]<org>/<name>[@<rev>], read from the listing's files and the repository's repo-info
// document (GET {endpoint}/api/{models|datasets}/{id}[/revision/{rev}], the one HfHub reads to
// resolve the revision). No I/O here: `repo_info` supplies the document when one is known.
//
//   name       the repo id, "org/name"
//   version    the commit the folder shows (40 hex): its revision when that is a commit, else the
//              commit of the files' resolve URLs, else the repo info's "sha"; "" when unknown
//   framework  the repo info's library_name, lower-cased; without one, guessed from the file
//              names (FrameworkOfFiles); "" for datasets
//   tags       the repo info's "tags", then its "pipeline_tag" (case-insensitive union)
//   size       the total of the listed files' sizes (the tree listing publishes every one)
//   files      how many files the folder lists
//   gated      the repo info's "gated" is set ("auto", "manual"): downloads need a token
//
// Private to src/app/.
#pragma once

#include <string>
#include <vector>

#include "hubfs/hubs/hf/hf_api.h"
#include "hubfs/hubs/hub.h"
#include "model_summary.h"

namespace hubfs::app {

// One summary per repository folder, in listing order. A repository the hub could not list (its
// folder holds only the ERROR.txt HfHub writes) is reported in `failures` as "<repo>: <why>".
// `repo_info` may be empty (no repo info: no tags, and the framework is guessed).
Summaries SummarizeHf(const std::string& hub_name, const hubs::Listing& listing,
                      const RepoInfoOf& repo_info);

// The framework a repository's file names suggest, by the first rule that any file matches:
// *.onnx onnx; *.gguf gguf; *.mindir mindspore; *.pt, *.pth, pytorch_model*.bin pytorch;
// *.safetensors safetensors; *.pb, *.h5, *.tflite tensorflow. "" when none does.
std::string FrameworkOfFiles(const std::vector<std::string>& file_names);

}  // namespace hubfs::app
