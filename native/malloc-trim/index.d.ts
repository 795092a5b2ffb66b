/** Whether this process's C library is glibc, the one with malloc_trim. */
export declare const supported: boolean;
/**
 * glibc malloc_trim(0): true when memory was returned to the kernel, false when there was none to
 * return; undefined where the C library has no malloc_trim.
 */
export declare function trim(): boolean | undefined;
