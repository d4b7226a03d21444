/* cqboot/version.h — the library version (keep in step with CMakeLists.txt). */
#ifndef CQBOOT_VERSION_H
#define CQBOOT_VERSION_H

#define CQB_VERSION_MAJOR 0
#define CQB_VERSION_MINOR 1
#define CQB_VERSION_PATCH 0
#define CQB_VERSION "0.1.0"

#endif
