/* out.h — async-signal-safe text output: a small stack buffer drained with write(2).
 *
 * Everything the fault handler prints goes through a Faults_out. The buffer
 * lives on the caller's stack (the alternate signal stack in the handler), so
 * there is no allocation; a full buffer or Faults_out_flush() writes it with
 * write(2), retrying on EINTR and short writes, and otherwise ignoring errors:
 * a report that cannot be written must not make the crash worse.
 */
#ifndef SLEUTH_FAULTS_OUT_H
#define SLEUTH_FAULTS_OUT_H

#include <stddef.h>
#include <stdint.h>

#define FAULTS_OUT_BUFSIZE 512

typedef struct {
    int fd;
    size_t len;
    char buf[FAULTS_OUT_BUFSIZE];
} Faults_out;

void Faults_out_init(Faults_out *o, int fd);
void Faults_out_write(Faults_out *o, const char *s, size_t n);
void Faults_out_puts(Faults_out *o, const char *s);
/* Unsigned decimal. */
void Faults_out_dec(Faults_out *o, uintmax_t v);
/* Lower-case hexadecimal without "0x", zero-padded to at least `width` digits. */
void Faults_out_hex(Faults_out *o, uintmax_t v, int width);
/* One character, escaped the way faulthandler escapes strings: printable
 * ASCII as is, others as \xHH, \uHHHH or \UHHHHHHHH. */
void Faults_out_char_escaped(Faults_out *o, uint32_t ch);
void Faults_out_flush(Faults_out *o);

#endif
