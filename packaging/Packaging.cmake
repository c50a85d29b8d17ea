# The Debian package (cpack -G DEB) and the files of a system install. Included by the top-level
# CMakeLists.txt. Build the package (packaging/README.md):
#   cmake -S . -B build-deb -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr -DHUBFS_BUILD_TESTS=OFF
#   cmake --build build-deb --target hubfs && (cd build-deb && cpack -G DEB)

# /etc, /lib/systemd and /sbin lie outside the prefix, so a `cmake --install` to /usr/local (a
# developer's) leaves them out; a system install (prefix /usr, as the package is) has them.
if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  set(hubfs_system_default ON)
else()
  set(hubfs_system_default OFF)
endif()
option(HUBFS_INSTALL_SYSTEM_FILES
       "Install /etc/hubfs/config.toml, hubfs@.service and /sbin/mount.fuse.hubfs (default: ON when CMAKE_INSTALL_PREFIX is /usr)"
       ${hubfs_system_default})

set(HUBFS_BIN_PATH "${CMAKE_INSTALL_PREFIX}/bin/hubfs")
set(HUBFS_DOC_DIR "${CMAKE_INSTALL_PREFIX}/share/doc/hubfs")
install(FILES README.md docs/operations.md docs/configuration.md docs/cli.md DESTINATION share/doc/hubfs)
# The site cache tier: an nginx configuration for the site's cache machine and a hubfs
# configuration for the boxes behind it (packaging/site-cache/README.md).
install(FILES packaging/site-cache/README.md packaging/site-cache/nginx.conf packaging/site-cache/hubfs-site.toml
        DESTINATION share/doc/hubfs/site-cache)

if(HUBFS_INSTALL_SYSTEM_FILES)
  configure_file(packaging/hubfs@.service.in packaging/hubfs@.service @ONLY)
  configure_file(packaging/mount.fuse.hubfs.in packaging/mount.fuse.hubfs @ONLY)
  install(FILES packaging/config.toml DESTINATION /etc/hubfs)
  install(FILES ${PROJECT_BINARY_DIR}/packaging/hubfs@.service DESTINATION /lib/systemd/system)
  # mount(8) looks for helpers in /sbin only.
  install(PROGRAMS ${PROJECT_BINARY_DIR}/packaging/mount.fuse.hubfs DESTINATION /sbin)
endif()

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME hubfs)
set(CPACK_PACKAGE_VENDOR hubfs)
set(CPACK_PACKAGE_CONTACT "hubfs maintainers <hubfs@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "model hubs as read-only folders (FUSE)")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # hubfs_<version>-<release>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_PACKAGE_SECTION utils)
# The synopsis line is CPACK_PACKAGE_DESCRIPTION_SUMMARY; this is the text below it.
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION "\
hubfs mounts model hubs (the ONNX Model Hub, NVIDIA DIGITS model stores, the MindSpore
Hub) as read-only folders. A file is downloaded on its first read, verified against the
hub's sha256 and kept in a persistent block cache, so programs open models as plain paths.
The package has a systemd unit (hubfs@.service) that mounts for every user of the machine
and a mount helper for /etc/fstab (type fuse.hubfs).")
# The libraries' packages come from dpkg-shlibdeps; fusermount3 (unmounting, non-root mounts)
# is a program, so fuse3 is named here.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "fuse3")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "attr")  # getfattr shows the user.hubfs.* attributes
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${PROJECT_SOURCE_DIR}/packaging/debian/conffiles
    ${PROJECT_SOURCE_DIR}/packaging/debian/postinst
    ${PROJECT_SOURCE_DIR}/packaging/debian/prerm
    ${PROJECT_SOURCE_DIR}/packaging/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
# A package without the unit, the helper and the default configuration would install, but not
# as documented: refuse to build it.
configure_file(packaging/cpack-project.cmake.in packaging/cpack-project.cmake @ONLY)
set(CPACK_PROJECT_CONFIG_FILE ${PROJECT_BINARY_DIR}/packaging/cpack-project.cmake)
include(CPack)
