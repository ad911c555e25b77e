/*
 * Image files for the test and benchmark programs: JPEG and PNG in
 * (through src/image.c), PPM in and out.
 */
#ifndef S4LAB_IMGIO_H
#define S4LAB_IMGIO_H

#include <stdint.h>

/* Decode a JPEG or PNG file to w x h RGB; NULL and *cause on failure. */
uint8_t		*imgio_load(const char *, int *, int *, char **);
/* Read and write binary PPM (P6, maxval 255). */
uint8_t		*imgio_read_ppm(const char *, int *, int *, char **);
int		 imgio_write_ppm(const char *, const uint8_t *, int, int,
		     char **);

#endif /* S4LAB_IMGIO_H */
