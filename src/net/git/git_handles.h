// RAII owners for libgit2 objects, private to src/net/git/. Each alias pairs a libgit2 type with
// its git_*_free function; all of them accept null, so a failed lookup can be held like any
// other unique_ptr.
//
// Thread-safety: like std::unique_ptr. libgit2 objects of one repository must not be used from
// two threads at once (see LibGit2Repository for how hubfs serialises them).
#pragma once

#include <git2.h>

#include <memory>

namespace hubfs::net::git {

template <typename T, void (*Free)(T*)>
struct GitFree {
  void operator()(T* object) const { Free(object); }
};

template <typename T, void (*Free)(T*)>
using GitPtr = std::unique_ptr<T, GitFree<T, Free>>;

using RepositoryPtr = GitPtr<git_repository, git_repository_free>;
using RemotePtr = GitPtr<git_remote, git_remote_free>;
using ReferencePtr = GitPtr<git_reference, git_reference_free>;
using ObjectPtr = GitPtr<git_object, git_object_free>;
using TreePtr = GitPtr<git_tree, git_tree_free>;
using TreeEntryPtr = GitPtr<git_tree_entry, git_tree_entry_free>;
using BlobPtr = GitPtr<git_blob, git_blob_free>;
using OdbPtr = GitPtr<git_odb, git_odb_free>;

}  // namespace hubfs::net::git
