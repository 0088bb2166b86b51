/* errno.h of the trusted library (libde_trts): Linux's values, as SGX's tlibc has them. */
#ifndef TLIBC_ERRNO_H
#define TLIBC_ERRNO_H

#ifdef __cplusplus
extern "C" {
#endif

/* One errno per module, shared by its ECALLs running at once (there is no thread-local storage here). */
int *__errno_location(void);
#define errno (*__errno_location())

#define EPERM   1
#define ENOENT  2
#define EINTR   4
#define EIO     5
#define EBADF   9
#define EAGAIN  11
#define ENOMEM  12
#define EACCES  13
#define EFAULT  14
#define EBUSY   16
#define EEXIST  17
#define EINVAL  22
#define ENOSPC  28
#define EDOM    33
#define ERANGE  34
#define ENOSYS  38
#define EOVERFLOW 75

#ifdef __cplusplus
}
#endif

#endif
