# minitrain_add_plugin(<name> SOURCES <files...>)
# Builds a callback plugin as a MODULE library named lib<name>.so in the
# directory the CLI searches, linked to the framework library it calls into.
function(minitrain_add_plugin name)
  cmake_parse_arguments(ARG "" "" "SOURCES" ${ARGN})
  add_library(${name} MODULE ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE minitrain::framework)
  set_target_properties(${name} PROPERTIES
    PREFIX "lib"
    LIBRARY_OUTPUT_DIRECTORY ${MINITRAIN_PLUGIN_OUTPUT_DIRECTORY}
    CXX_VISIBILITY_PRESET hidden
    BUILD_RPATH "$ORIGIN/../..")
endfunction()
