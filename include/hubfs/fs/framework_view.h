// The /by-framework view (docs/staging.md): every model file of every hub, in one folder per
// framework, under its original file name, as the Model Hub Zoo proposal stages models.
//
//   /by-framework/<framework>/<name>     the same file as in its hub: the entry shares the hub
//                                        entry's RemoteObject, so both read one cache blob, and
//                                        carries the hub's index (its verification policy)
//
// Which files are models, and of which framework, the hub adapters say (hubs::Entry::framework).
// An archive model (a model-server .mar/.model) is listed as the archive; the tree's unpacked
// folder <stem>/ beside it holds its members uncompressed.
//
// Names (deterministic for given listings; the rule is documented in docs/staging.md):
//   1. The same file (same published sha256, else same URL) listed twice under one name, by one
//      hub or several, is listed once.
//   2. Within a framework folder, claimants of a name are ordered by hub (configuration order),
//      then by their place in the hub's listing. The first keeps the plain name. Every plain
//      name is given out before any renamed one, so a renamed file never takes another file's
//      own name.
//   3. Each later claimant takes the first free name of
//        <stem>~<folder><ext>, <stem>~<folder>~<hub><ext>, <stem>~<folder>~<hub>~2<ext>, ~3 ...
//      where <folder> is the name of the folder holding the file in its hub (the hub's name for a
//      file at the hub's top), <ext> the last extension (.tar.gz and the like count as one) and
//      <stem> the rest; a name is cut (at a UTF-8 boundary, before <ext>) to fit 255 bytes.
//   4. An archive name also takes its unpacked folder's name (<stem> without the archive
//      extension), so a file never collides with the folder the tree adds beside an archive.
//
// Pure functions, no I/O.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "hubfs/fs/tree.h"
#include "hubfs/hubs/hub.h"

namespace hubfs::fs {

inline constexpr char kFrameworkFolder[] = "by-framework";

struct FrameworkViewSource {
  uint32_t hub_index = 0;                  // stamped on the view's entries (Node::hub)
  std::string hub;                         // the hub's folder name
  const hubs::Listing* listing = nullptr;  // must outlive the call
};

// The view's entries made from one hub, with paths {<framework>, <name>} below /by-framework/.
struct FrameworkViewPart {
  uint32_t hub_index = 0;
  hubs::Listing listing;
};

// The view of `sources` (in configuration order); hubs without models give no part.
std::vector<FrameworkViewPart> BuildFrameworkView(const std::vector<FrameworkViewSource>& sources);

// Adds /by-framework/ to `tree` (before Finish), present even when no hub lists a model. Skipped
// with a warning when the name is taken (a hub of that name). `archives` as for Tree::AddHub: the
// view's archive files get their unpacked folders too.
void AddFrameworkView(const std::vector<FrameworkViewSource>& sources, int64_t mtime, Tree* tree,
                      std::vector<std::string>* warnings, const ArchiveIndexLookup& archives = nullptr);

// "resnet50-12.onnx" -> {"resnet50-12", ".onnx"}; "data.tar.gz" -> {"data", ".tar.gz"};
// "README" and ".hidden" -> {name, ""}.
std::pair<std::string, std::string> SplitExtension(std::string_view name);

// The folder name the tree gives an archive's unpacked view ("x.mar" -> "x"); "" when `name` is
// not an archive name (archive::IsArchiveName).
std::string ArchiveStem(std::string_view name);

}  // namespace hubfs::fs
