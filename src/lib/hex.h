/* One hexadecimal digit's value, for the parsers of hostile text (the
 * gdbstub's packets, the display's HTTP requests). */
#ifndef V2E_LIB_HEX_H
#define V2E_LIB_HEX_H

/* 0-15, or -1 when c is not a hex digit (either case). */
static inline int hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

#endif
