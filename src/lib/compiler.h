/* Compiler helpers shared by every subsystem. */
#ifndef V2E_LIB_COMPILER_H
#define V2E_LIB_COMPILER_H

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#define must_check __attribute__((warn_unused_result))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
