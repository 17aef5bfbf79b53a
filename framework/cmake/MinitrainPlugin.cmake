# minitrain_add_plugin(<name> SOURCES <files...>)
# Builds a callback plugin as a MODULE library named lib<name>.so, linked to
# the framework library it calls into. In minitrain's own tree it goes where
# the CLI finds it (lib/minitrain/plugins) and is installed there; out of the
# tree (find_package(minitrain)) it goes to MINITRAIN_PLUGIN_OUTPUT_DIRECTORY,
# by default the current build directory: name that directory in
# MINITRAIN_PLUGIN_PATH, or the .so's path in the job file.
function(minitrain_add_plugin name)
  cmake_parse_arguments(ARG "" "" "SOURCES" ${ARGN})
  if(NOT MINITRAIN_PLUGIN_OUTPUT_DIRECTORY)
    set(MINITRAIN_PLUGIN_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
  endif()
  add_library(${name} MODULE ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE minitrain::framework)
  set_target_properties(${name} PROPERTIES
    PREFIX "lib"
    LIBRARY_OUTPUT_DIRECTORY ${MINITRAIN_PLUGIN_OUTPUT_DIRECTORY}
    CXX_VISIBILITY_PRESET hidden
    BUILD_RPATH "$ORIGIN/../.."
    INSTALL_RPATH "$ORIGIN/../..")
  if(PROJECT_NAME STREQUAL "minitrain")
    install(TARGETS ${name} LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}/minitrain/plugins)
  endif()
endfunction()
