/* sgx_defs.h: the calling-convention and linkage macros SGX application code uses. */
#ifndef SGX_DEFS_H_
#define SGX_DEFS_H_

#ifndef SGX_CDECL
#define SGX_CDECL
#endif
#ifndef SGX_STDCALL
#define SGX_STDCALL
#endif
#ifndef SGX_FASTCALL
#define SGX_FASTCALL
#endif
#ifndef SGX_EXTERNC
#ifdef __cplusplus
#define SGX_EXTERNC extern "C"
#else
#define SGX_EXTERNC
#endif
#endif

#define SGX_DLLIMPORT
#define SGX_UBRIDGE(attr, fname, args...) attr fname args
#define SGX_NOCONVENTION

#endif
