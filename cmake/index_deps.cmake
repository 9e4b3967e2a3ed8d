# Dependencies of the index/ layer: FAISS (Debian libfaiss-dev, a static
# generic build that needs OpenMP and BLAS/LAPACK), hnswlib (header-only,
# compiled with our flags) and OpenMP.
#
# ark_index is an INTERFACE library while src/index/ has no .cc files and a
# STATIC one once it has; link with the keyword that fits its type.
find_package(OpenMP REQUIRED)
find_package(faiss CONFIG REQUIRED)
find_path(HNSWLIB_INCLUDE_DIR hnswlib/hnswlib.h REQUIRED)

get_target_property(ark_index_type ark_index TYPE)
if(ark_index_type STREQUAL "INTERFACE_LIBRARY")
  set(ark_index_keyword INTERFACE)
else()
  set(ark_index_keyword PUBLIC)
endif()
target_link_libraries(ark_index ${ark_index_keyword} faiss OpenMP::OpenMP_CXX Threads::Threads)
target_include_directories(ark_index SYSTEM ${ark_index_keyword} ${HNSWLIB_INCLUDE_DIR})
