# install() rules and the CPack .deb for gatewayd. Included once, at the end of the top-level
# CMakeLists.txt. tools/package.sh builds, checks, installs and purges the package.

# A service package belongs in /usr, not /usr/local; /etc and /lib/systemd are absolute below.
if(CMAKE_INSTALL_PREFIX_INITIALIZED_TO_DEFAULT)
  set(CMAKE_INSTALL_PREFIX "/usr" CACHE PATH "Install prefix" FORCE)
endif()
include(GNUInstallDirs)
set(GATEWAYD_CONFIG_DIR "/etc/gatewayd" CACHE PATH "Where gateway.yaml is installed")
# Debian 12 still ships units in /lib (dpkg does not know /lib and /usr/lib are one directory).
set(GATEWAYD_SYSTEMD_UNIT_DIR "/lib/systemd/system" CACHE PATH "Where gatewayd.service is installed")

set(gatewayd_bin "${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}/gatewayd")
set(gatewayd_config "${GATEWAYD_CONFIG_DIR}/gateway.yaml")

install(TARGETS gatewayd gatewayd-mock-backend RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES config/gateway.yaml DESTINATION ${GATEWAYD_CONFIG_DIR}
        PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ)

# The unit names /usr/bin/gatewayd and /etc/gatewayd/gateway.yaml; follow other install paths.
file(READ "${CMAKE_CURRENT_SOURCE_DIR}/config/gatewayd.service" gatewayd_unit)
string(REPLACE "/usr/bin/gatewayd" "${gatewayd_bin}" gatewayd_unit "${gatewayd_unit}")
string(REPLACE "/etc/gatewayd/gateway.yaml" "${gatewayd_config}" gatewayd_unit "${gatewayd_unit}")
file(GENERATE OUTPUT "${CMAKE_CURRENT_BINARY_DIR}/packaging/gatewayd.service" CONTENT "${gatewayd_unit}")
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS config/gatewayd.service)
install(FILES "${CMAKE_CURRENT_BINARY_DIR}/packaging/gatewayd.service" DESTINATION ${GATEWAYD_SYSTEMD_UNIT_DIR})

install(FILES README.md docs/operations.md docs/performance.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(FILES tools/mock_backend/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR} RENAME mock-backend.md)
install(FILES config/two-services.yaml config/tls.yaml DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)

# Maintainer scripts: the system user, the unit's enable/start/stop, clean-up on purge.
foreach(script postinst prerm postrm)
  configure_file(packaging/debian/${script} "${CMAKE_CURRENT_BINARY_DIR}/packaging/debian/${script}"
                 @ONLY FILE_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE
                 WORLD_READ WORLD_EXECUTE)
endforeach()
# dpkg keeps a conffile the operator edited across upgrades and removes it only on purge.
file(WRITE "${CMAKE_CURRENT_BINARY_DIR}/packaging/debian/conffiles" "${gatewayd_config}\n")

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME gatewayd)
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_CONTACT "gatewayd maintainers <gatewayd@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "small HTTP/1.1 API gateway with rate limiting and circuit breakers")
set(CPACK_PACKAGING_INSTALL_PREFIX "${CMAKE_INSTALL_PREFIX}")
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_PACKAGE_NAME gatewayd)
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION "${CPACK_PACKAGE_DESCRIPTION_SUMMARY}
 gatewayd proxies HTTP/1.1 to pools of backends with round robin, active health checks,
 one circuit breaker per backend and a per-client rate limit kept in Redis or in memory.
 It terminates TLS (SNI, certificate reload on SIGHUP, client certificates), reaches
 https backends, and passes WebSocket and other Upgrade tunnels through.
 It runs as a systemd service (Type=notify, watchdog, reload on SIGHUP) and exposes
 /healthz, /readyz, /backends and Prometheus /metrics on a loopback admin listener.")
# Library dependencies come from dpkg-shlibdeps; adduser is for the postinst.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "redis-server")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "curl")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    "${CMAKE_CURRENT_BINARY_DIR}/packaging/debian/postinst"
    "${CMAKE_CURRENT_BINARY_DIR}/packaging/debian/prerm"
    "${CMAKE_CURRENT_BINARY_DIR}/packaging/debian/postrm"
    "${CMAKE_CURRENT_BINARY_DIR}/packaging/debian/conffiles")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
