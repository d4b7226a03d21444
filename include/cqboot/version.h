/* cqboot/version.h — the library version (keep in step with CMakeLists.txt). */
#ifndef CQBOOT_VERSION_H
#define CQBOOT_VERSION_H

#define CQB_VERSION_MAJOR 0
#define CQB_VERSION_MINOR 1
#define CQB_VERSION_PATCH 0
#define CQB_VERSION "0.1.0"

/* The C interface the bindings compile against: the functions and types of
 * the headers in include/cqboot/. libcqboot.so exports exactly the cqb_*
 * names these headers declare (symbol version CQBOOT_0) and carries the
 * SONAME libcqboot.so.<major>. CQB_API_VERSION grows whenever a public
 * declaration changes incompatibly (a removed function, a changed signature,
 * a struct field moved); additions keep it. A binding checks it at load time
 * against the value it was built with. */
#define CQB_API_VERSION 1

#endif
