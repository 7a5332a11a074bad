/* The shared library's own translation unit: everything in it comes from the engine's static
 * libraries (cmake/install.cmake links them whole). */
typedef int toon_shared_library_unit_;
