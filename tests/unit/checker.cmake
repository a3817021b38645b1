# The compliance simulation's tools (tools/simgen, tools/checker). test_simgen links the rules
# engine to prove that the generated campaign files load in it (and the checker, to prove it
# reads the bundle); the checker itself and test_checker never link it: the checker recomputes
# compliance with its own tables.
if(TARGET plateau_simgen_core AND TARGET plateau_checker_core)
  pl_add_test(NAME test_simgen SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_simgen.c
              LIBS plateau_simgen_core plateau_checker_core pl_rules LABELS unit)
endif()
if(TARGET plateau_checker_core)
  file(GLOB pl_checker_tests ${CMAKE_CURRENT_LIST_DIR}/test_checker*.c)
  foreach(src ${pl_checker_tests})
    get_filename_component(name ${src} NAME_WE)
    pl_add_test(NAME ${name} SOURCES ${src} LIBS plateau_checker_core LABELS unit)
  endforeach()
endif()
