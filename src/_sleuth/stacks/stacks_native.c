/* stacks_native.c — x86-64 .eh_frame unwinding of a remote thread.
 *
 * Everything read from the ELF files and from the target is bounded:
 * sections are read whole (capped), CFI programs are interpreted with every
 * pointer checked against the section end, the remember-state stack is
 * fixed, and the unwind stops at the first frame it cannot explain (no FDE,
 * an expression-based CFA such as a signal trampoline, a non-increasing
 * stack pointer, a return address of 0).
 */
#define _GNU_SOURCE
#include "stacks_native.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/user.h>
#include <unistd.h>

#define NATIVE_MAX_MODULES 512
#define NATIVE_MAX_SECTION (64u << 20)
#define NREGS 17            /* DWARF x86-64: 0..15 general registers, 16 = return address */
#define REG_RBP 6
#define REG_RSP 7
#define REG_RA 16

typedef struct {
    uint64_t start, end;        /* executable mapping */
    uint64_t base;              /* address of the file's offset-0 mapping */
    char path[PATH_MAX];
    const char *name;           /* base name inside path */
    int loaded, ok;
    uint64_t bias;
    unsigned char *eh;          /* .eh_frame */
    size_t eh_len;
    uint64_t eh_vaddr;
    unsigned char *hdr;         /* .eh_frame_hdr */
    size_t hdr_len;
    uint64_t hdr_vaddr;
    const unsigned char *table; /* hdr's (initial location, FDE) pairs, datarel sdata4 */
    size_t nfdes;
    struct nsym { uint64_t addr, size; uint32_t name; } *syms;
    size_t nsyms;
    char *strtab;
    size_t strtab_len;
} native_module;

struct stacks_native {
    pid_t pid;
    native_module *mods;
    size_t nmods;
};

/* --- module cache ------------------------------------------------------------ */

stacks_native *
stacks_native_new(pid_t pid)
{
    char path[64], line[PATH_MAX + 256];
    stacks_native *n = calloc(1, sizeof(*n));
    if (!n)
        return NULL;
    n->pid = pid;
    n->mods = calloc(NATIVE_MAX_MODULES, sizeof(native_module));
    if (!n->mods) {
        free(n);
        return NULL;
    }
    snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return n;
    /* First pass: executable mappings; the base of each file is its
     * offset-0 mapping, which precedes its code in the listing. */
    struct { uint64_t base; char path[PATH_MAX]; } last = {0, ""};
    while (fgets(line, sizeof(line), f) && n->nmods < NATIVE_MAX_MODULES) {
        unsigned long long start, end, off;
        char perms[8];
        int pathpos = 0;
        if (sscanf(line, "%llx-%llx %7s %llx %*s %*s %n", &start, &end, perms, &off, &pathpos) < 4 ||
            pathpos <= 0)
            continue;
        char *p = line + pathpos;
        p[strcspn(p, "\n")] = '\0';
        if (p[0] != '/')
            continue;
        if (off == 0) {
            last.base = start;
            snprintf(last.path, sizeof(last.path), "%s", p);
        }
        if (perms[2] != 'x' || strcmp(last.path, p) != 0)
            continue;
        native_module *m = &n->mods[n->nmods++];
        m->start = start;
        m->end = end;
        m->base = last.base;
        snprintf(m->path, sizeof(m->path), "%s", p);
        const char *slash = strrchr(m->path, '/');
        m->name = slash ? slash + 1 : m->path;
    }
    fclose(f);
    return n;
}

void
stacks_native_free(stacks_native *n)
{
    if (!n)
        return;
    for (size_t i = 0; i < n->nmods; i++) {
        free(n->mods[i].eh);
        free(n->mods[i].hdr);
        free(n->mods[i].syms);
        free(n->mods[i].strtab);
    }
    free(n->mods);
    free(n);
}

static int
pread_exact(int fd, void *buf, size_t len, uint64_t off, uint64_t fsize)
{
    if (off > fsize || len > fsize - off)
        return -1;
    size_t done = 0;
    while (done < len) {
        ssize_t r = pread(fd, (char *)buf + done, len - done, (off_t)(off + done));
        if (r <= 0)
            return -1;
        done += (size_t)r;
    }
    return 0;
}

static unsigned char *
read_section(int fd, uint64_t fsize, const Elf64_Shdr *sh, size_t *len)
{
    if (sh->sh_type == SHT_NOBITS || sh->sh_size == 0 || sh->sh_size > NATIVE_MAX_SECTION)
        return NULL;
    unsigned char *buf = malloc(sh->sh_size + 1);
    if (!buf)
        return NULL;
    if (pread_exact(fd, buf, sh->sh_size, sh->sh_offset, fsize) < 0) {
        free(buf);
        return NULL;
    }
    buf[sh->sh_size] = 0;
    *len = sh->sh_size;
    return buf;
}

static int
sym_cmp(const void *a, const void *b)
{
    const struct nsym *x = a, *y = b;
    return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static void
load_symbols(native_module *m, int fd, uint64_t fsize, const Elf64_Shdr *sh, const Elf64_Shdr *strsh)
{
    size_t symlen = 0, strlen_ = 0;
    Elf64_Sym *syms = (Elf64_Sym *)read_section(fd, fsize, sh, &symlen);
    char *strs = (char *)read_section(fd, fsize, strsh, &strlen_);
    if (!syms || !strs || sh->sh_entsize != sizeof(Elf64_Sym))
        goto fail;
    size_t count = symlen / sizeof(Elf64_Sym), k = 0;
    m->syms = malloc((count + 1) * sizeof(*m->syms));
    if (!m->syms)
        goto fail;
    for (size_t i = 0; i < count; i++) {
        if (ELF64_ST_TYPE(syms[i].st_info) != STT_FUNC || !syms[i].st_value ||
            syms[i].st_name >= strlen_ || syms[i].st_shndx == SHN_UNDEF)
            continue;
        m->syms[k].addr = syms[i].st_value;
        m->syms[k].size = syms[i].st_size;
        m->syms[k].name = syms[i].st_name;
        k++;
    }
    qsort(m->syms, k, sizeof(*m->syms), sym_cmp);
    m->nsyms = k;
    m->strtab = strs;
    m->strtab_len = strlen_;
    free(syms);
    return;
fail:
    free(syms);
    free(strs);
}

static void
module_load(native_module *m, pid_t pid)
{
    char full[PATH_MAX + 64];
    Elf64_Ehdr eh;
    Elf64_Shdr *sh = NULL;
    Elf64_Phdr *ph = NULL;
    char *shstr = NULL;
    struct stat st;
    m->loaded = 1;
    snprintf(full, sizeof(full), "/proc/%d/root%s", (int)pid, m->path);
    int fd = open(full, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        fd = open(m->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) < 0)
        goto done;
    uint64_t fsize = (uint64_t)st.st_size;
    if (pread_exact(fd, &eh, sizeof(eh), 0, fsize) < 0 || memcmp(eh.e_ident, ELFMAG, SELFMAG) ||
        eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_shentsize != sizeof(Elf64_Shdr) ||
        eh.e_phentsize != sizeof(Elf64_Phdr) || !eh.e_shnum || eh.e_shnum > 4096 ||
        !eh.e_phnum || eh.e_phnum > 4096 || eh.e_shstrndx >= eh.e_shnum)
        goto done;
    ph = malloc(sizeof(*ph) * eh.e_phnum);
    sh = malloc(sizeof(*sh) * eh.e_shnum);
    if (!ph || !sh || pread_exact(fd, ph, sizeof(*ph) * eh.e_phnum, eh.e_phoff, fsize) < 0 ||
        pread_exact(fd, sh, sizeof(*sh) * eh.e_shnum, eh.e_shoff, fsize) < 0)
        goto done;
    uint64_t first = UINT64_MAX;
    for (int i = 0; i < eh.e_phnum; i++)
        if (ph[i].p_type == PT_LOAD && ph[i].p_offset == 0)
            first = ph[i].p_vaddr & ~(uint64_t)0xfff;
    if (first == UINT64_MAX)
        goto done;
    m->bias = eh.e_type == ET_EXEC ? 0 : m->base - first;
    size_t shstr_len = 0;
    shstr = (char *)read_section(fd, fsize, &sh[eh.e_shstrndx], &shstr_len);
    if (!shstr)
        goto done;
    const Elf64_Shdr *symtab = NULL, *dynsym = NULL;
    for (int i = 0; i < eh.e_shnum; i++) {
        if (sh[i].sh_name >= shstr_len)
            continue;
        const char *name = shstr + sh[i].sh_name;
        if (strcmp(name, ".eh_frame") == 0 && !m->eh) {
            m->eh = read_section(fd, fsize, &sh[i], &m->eh_len);
            m->eh_vaddr = sh[i].sh_addr;
        }
        else if (strcmp(name, ".eh_frame_hdr") == 0 && !m->hdr) {
            m->hdr = read_section(fd, fsize, &sh[i], &m->hdr_len);
            m->hdr_vaddr = sh[i].sh_addr;
        }
        else if (sh[i].sh_type == SHT_SYMTAB && sh[i].sh_link < eh.e_shnum)
            symtab = &sh[i];
        else if (sh[i].sh_type == SHT_DYNSYM && sh[i].sh_link < eh.e_shnum)
            dynsym = &sh[i];
    }
    /* .symtab names static functions too; stripped files keep only .dynsym. */
    if (symtab)
        load_symbols(m, fd, fsize, symtab, &sh[symtab->sh_link]);
    if (!m->nsyms && dynsym)
        load_symbols(m, fd, fsize, dynsym, &sh[dynsym->sh_link]);
    /* .eh_frame_hdr: version 1, eh_frame_ptr enc, fde_count enc, table enc;
     * the sorted table is usable only in its usual datarel|sdata4 form. */
    if (m->hdr && m->hdr_len >= 12 && m->hdr[0] == 1 && m->hdr[2] == 0x03 && m->hdr[3] == 0x3b) {
        uint32_t count;
        memcpy(&count, m->hdr + 8, 4);
        if ((size_t)count <= (m->hdr_len - 12) / 8) {
            m->table = m->hdr + 12;
            m->nfdes = count;
        }
    }
    m->ok = 1;
done:
    if (fd >= 0)
        close(fd);
    free(ph);
    free(sh);
    free(shstr);
}

static native_module *
module_for(stacks_native *n, uint64_t pc)
{
    for (size_t i = 0; i < n->nmods; i++) {
        native_module *m = &n->mods[i];
        if (pc >= m->start && pc < m->end) {
            if (!m->loaded)
                module_load(m, n->pid);
            return m->ok ? m : NULL;
        }
    }
    return NULL;
}

/* --- DWARF CFI ------------------------------------------------------------------ */

typedef struct {
    const unsigned char *p, *end;
} cursor;

static int
get_u8(cursor *c, uint8_t *out)
{
    if (c->p >= c->end)
        return -1;
    *out = *c->p++;
    return 0;
}

static int
get_bytes(cursor *c, void *out, size_t n)
{
    if ((size_t)(c->end - c->p) < n)
        return -1;
    memcpy(out, c->p, n);
    c->p += n;
    return 0;
}

static int
get_uleb(cursor *c, uint64_t *out)
{
    uint64_t v = 0;
    int shift = 0;
    uint8_t b;
    do {
        if (get_u8(c, &b) < 0 || shift > 63)
            return -1;
        v |= (uint64_t)(b & 0x7f) << shift;
        shift += 7;
    } while (b & 0x80);
    *out = v;
    return 0;
}

static int
get_sleb(cursor *c, int64_t *out)
{
    uint64_t v = 0;
    int shift = 0;
    uint8_t b;
    do {
        if (get_u8(c, &b) < 0 || shift > 63)
            return -1;
        v |= (uint64_t)(b & 0x7f) << shift;
        shift += 7;
    } while (b & 0x80);
    if (shift < 64 && (b & 0x40))
        v |= ~(uint64_t)0 << shift;
    *out = (int64_t)v;
    return 0;
}

/* A DW_EH_PE-encoded pointer; `vaddr` is the file address of the field. */
static int
get_encoded(cursor *c, uint8_t enc, uint64_t vaddr, uint64_t datarel, uint64_t *out)
{
    uint64_t v = 0;
    if (enc == 0xff)
        return -1;   /* DW_EH_PE_omit */
    switch (enc & 0x0f) {
    case 0x00: case 0x04: if (get_bytes(c, &v, 8) < 0) return -1; break;
    case 0x01: if (get_uleb(c, &v) < 0) return -1; break;
    case 0x02: { uint16_t x; if (get_bytes(c, &x, 2) < 0) return -1; v = x; break; }
    case 0x03: { uint32_t x; if (get_bytes(c, &x, 4) < 0) return -1; v = x; break; }
    case 0x09: { int64_t x; if (get_sleb(c, &x) < 0) return -1; v = (uint64_t)x; break; }
    case 0x0a: { int16_t x; if (get_bytes(c, &x, 2) < 0) return -1; v = (uint64_t)(int64_t)x; break; }
    case 0x0b: { int32_t x; if (get_bytes(c, &x, 4) < 0) return -1; v = (uint64_t)(int64_t)x; break; }
    case 0x0c: if (get_bytes(c, &v, 8) < 0) return -1; break;
    default: return -1;
    }
    switch (enc & 0x70) {
    case 0x00: break;
    case 0x10: v += vaddr; break;        /* pcrel */
    case 0x30: v += datarel; break;      /* datarel */
    default: return -1;
    }
    if (enc & 0x80)
        return -1;   /* indirect: not needed for FDE ranges */
    *out = v;
    return 0;
}

enum { RULE_SAME = 0, RULE_OFFSET, RULE_VAL_OFFSET, RULE_REGISTER, RULE_UNDEFINED, RULE_OTHER };

typedef struct {
    int cfa_reg;
    int64_t cfa_off;
    int cfa_expr;                       /* CFA given by an expression: not supported */
    struct { int how; int64_t arg; } r[NREGS];
} cfi_row;

typedef struct {
    uint64_t code_align;
    int64_t data_align;
    uint64_t ra_reg;
    uint8_t fde_enc;
    int signal_frame;
    cursor init;                        /* initial instructions */
} cie_info;

#define CFI_STACK 8

/* Run CFI instructions from `loc` while the location stays <= target. */
static int
cfi_run(cursor c, const cie_info *cie, uint64_t loc, uint64_t target, cfi_row *row,
        const cfi_row *initial)
{
    cfi_row stack[CFI_STACK];
    int depth = 0;
    while (c.p < c.end) {
        uint8_t op;
        uint64_t a, b;
        int64_t s;
        if (get_u8(&c, &op) < 0)
            return -1;
        uint8_t hi = op & 0xc0, lo = op & 0x3f;
        if (hi == 0x40) {               /* advance_loc */
            loc += lo * cie->code_align;
            if (loc > target)
                return 0;
            continue;
        }
        if (hi == 0x80) {               /* offset */
            if (get_uleb(&c, &a) < 0)
                return -1;
            if (lo < NREGS) {
                row->r[lo].how = RULE_OFFSET;
                row->r[lo].arg = (int64_t)a * cie->data_align;
            }
            continue;
        }
        if (hi == 0xc0) {               /* restore */
            if (lo < NREGS)
                row->r[lo] = initial ? initial->r[lo] : (typeof(row->r[0])){RULE_SAME, 0};
            continue;
        }
        switch (op) {
        case 0x00: break;               /* nop */
        case 0x01:                      /* set_loc */
            if (get_encoded(&c, cie->fde_enc, 0, 0, &a) < 0)
                return -1;
            loc = a;
            if (loc > target)
                return 0;
            break;
        case 0x02: case 0x03: case 0x04: {   /* advance_loc1/2/4 */
            uint32_t d = 0;
            size_t n = op == 0x02 ? 1 : op == 0x03 ? 2 : 4;
            if (get_bytes(&c, &d, n) < 0)
                return -1;
            loc += d * cie->code_align;
            if (loc > target)
                return 0;
            break;
        }
        case 0x05:                      /* offset_extended */
            if (get_uleb(&c, &a) < 0 || get_uleb(&c, &b) < 0)
                return -1;
            if (a < NREGS) {
                row->r[a].how = RULE_OFFSET;
                row->r[a].arg = (int64_t)b * cie->data_align;
            }
            break;
        case 0x06:                      /* restore_extended */
            if (get_uleb(&c, &a) < 0)
                return -1;
            if (a < NREGS)
                row->r[a] = initial ? initial->r[a] : (typeof(row->r[0])){RULE_SAME, 0};
            break;
        case 0x07: case 0x08:           /* undefined, same_value */
            if (get_uleb(&c, &a) < 0)
                return -1;
            if (a < NREGS)
                row->r[a].how = op == 0x07 ? RULE_UNDEFINED : RULE_SAME;
            break;
        case 0x09:                      /* register */
            if (get_uleb(&c, &a) < 0 || get_uleb(&c, &b) < 0)
                return -1;
            if (a < NREGS) {
                row->r[a].how = RULE_REGISTER;
                row->r[a].arg = (int64_t)b;
            }
            break;
        case 0x0a:                      /* remember_state */
            if (depth >= CFI_STACK)
                return -1;
            stack[depth++] = *row;
            break;
        case 0x0b:                      /* restore_state */
            if (depth <= 0)
                return -1;
            *row = stack[--depth];
            break;
        case 0x0c:                      /* def_cfa */
            if (get_uleb(&c, &a) < 0 || get_uleb(&c, &b) < 0)
                return -1;
            row->cfa_reg = (int)a;
            row->cfa_off = (int64_t)b;
            row->cfa_expr = 0;
            break;
        case 0x0d:                      /* def_cfa_register */
            if (get_uleb(&c, &a) < 0)
                return -1;
            row->cfa_reg = (int)a;
            row->cfa_expr = 0;
            break;
        case 0x0e:                      /* def_cfa_offset */
            if (get_uleb(&c, &a) < 0)
                return -1;
            row->cfa_off = (int64_t)a;
            break;
        case 0x0f:                      /* def_cfa_expression */
            if (get_uleb(&c, &a) < 0 || (uint64_t)(c.end - c.p) < a)
                return -1;
            c.p += a;
            row->cfa_expr = 1;
            break;
        case 0x10: case 0x16:           /* expression, val_expression */
            if (get_uleb(&c, &a) < 0 || get_uleb(&c, &b) < 0 || (uint64_t)(c.end - c.p) < b)
                return -1;
            c.p += b;
            if (a < NREGS)
                row->r[a].how = RULE_OTHER;
            break;
        case 0x11:                      /* offset_extended_sf */
            if (get_uleb(&c, &a) < 0 || get_sleb(&c, &s) < 0)
                return -1;
            if (a < NREGS) {
                row->r[a].how = RULE_OFFSET;
                row->r[a].arg = s * cie->data_align;
            }
            break;
        case 0x12:                      /* def_cfa_sf */
            if (get_uleb(&c, &a) < 0 || get_sleb(&c, &s) < 0)
                return -1;
            row->cfa_reg = (int)a;
            row->cfa_off = s * cie->data_align;
            row->cfa_expr = 0;
            break;
        case 0x13:                      /* def_cfa_offset_sf */
            if (get_sleb(&c, &s) < 0)
                return -1;
            row->cfa_off = s * cie->data_align;
            break;
        case 0x14: case 0x15:           /* val_offset, val_offset_sf */
            if (get_uleb(&c, &a) < 0)
                return -1;
            if (op == 0x14) {
                if (get_uleb(&c, &b) < 0)
                    return -1;
                s = (int64_t)b;
            }
            else if (get_sleb(&c, &s) < 0)
                return -1;
            if (a < NREGS) {
                row->r[a].how = RULE_VAL_OFFSET;
                row->r[a].arg = s * cie->data_align;
            }
            break;
        case 0x2e:                      /* GNU_args_size */
            if (get_uleb(&c, &a) < 0)
                return -1;
            break;
        case 0x2f:                      /* GNU_negative_offset_extended */
            if (get_uleb(&c, &a) < 0 || get_uleb(&c, &b) < 0)
                return -1;
            if (a < NREGS) {
                row->r[a].how = RULE_OFFSET;
                row->r[a].arg = -(int64_t)b * cie->data_align;
            }
            break;
        default:
            return -1;
        }
    }
    return 0;
}

/* Parse the CIE at eh offset `off`. */
static int
cie_parse(const native_module *m, size_t off, cie_info *cie)
{
    cursor c = {m->eh + off, m->eh + m->eh_len};
    uint32_t len32, id;
    uint8_t version, ra8;
    memset(cie, 0, sizeof(*cie));
    if (get_bytes(&c, &len32, 4) < 0 || len32 == 0xffffffffu || len32 > (size_t)(c.end - c.p))
        return -1;
    const unsigned char *end = c.p + len32;
    c.end = end;
    if (get_bytes(&c, &id, 4) < 0 || id != 0 || get_u8(&c, &version) < 0 ||
        (version != 1 && version != 3))
        return -1;
    const char *aug = (const char *)c.p;
    size_t auglen = strnlen(aug, (size_t)(c.end - c.p));
    if (auglen == (size_t)(c.end - c.p))
        return -1;
    c.p += auglen + 1;
    if (get_uleb(&c, &cie->code_align) < 0 || get_sleb(&c, &cie->data_align) < 0)
        return -1;
    if (version == 1) {
        if (get_u8(&c, &ra8) < 0)
            return -1;
        cie->ra_reg = ra8;
    }
    else if (get_uleb(&c, &cie->ra_reg) < 0)
        return -1;
    cie->fde_enc = 0;
    if (aug[0] == 'z') {
        uint64_t alen;
        if (get_uleb(&c, &alen) < 0 || alen > (uint64_t)(c.end - c.p))
            return -1;
        cursor a = {c.p, c.p + alen};
        c.p += alen;
        for (size_t i = 1; i < auglen; i++) {
            uint8_t enc;
            uint64_t dummy;
            if (aug[i] == 'R') {
                if (get_u8(&a, &cie->fde_enc) < 0)
                    return -1;
            }
            else if (aug[i] == 'L') {
                if (get_u8(&a, &enc) < 0)
                    return -1;
            }
            else if (aug[i] == 'P') {
                if (get_u8(&a, &enc) < 0 || get_encoded(&a, enc & 0x7f, 0, 0, &dummy) < 0)
                    return -1;
            }
            else if (aug[i] == 'S')
                cie->signal_frame = 1;
            else if (aug[i] != 'B')
                return -1;
        }
    }
    else if (auglen)
        return -1;
    cie->init = c;
    return 0;
}

/* The CFI row at file address `pc` of module m. */
static int
row_for(const native_module *m, uint64_t pc, cfi_row *row)
{
    if (!m->table || !m->eh)
        return -1;
    /* binary search: the last entry whose initial location <= pc */
    size_t lo = 0, hi = m->nfdes;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int32_t start;
        memcpy(&start, m->table + mid * 8, 4);
        if (m->hdr_vaddr + (uint64_t)(int64_t)start <= pc)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return -1;
    int32_t fde_rel;
    memcpy(&fde_rel, m->table + (lo - 1) * 8 + 4, 4);
    uint64_t fde_vaddr = m->hdr_vaddr + (uint64_t)(int64_t)fde_rel;
    if (fde_vaddr < m->eh_vaddr || fde_vaddr - m->eh_vaddr >= m->eh_len)
        return -1;
    size_t off = (size_t)(fde_vaddr - m->eh_vaddr);
    cursor c = {m->eh + off, m->eh + m->eh_len};
    uint32_t len32, cie_ptr;
    if (get_bytes(&c, &len32, 4) < 0 || len32 == 0xffffffffu || len32 > (size_t)(c.end - c.p))
        return -1;
    c.end = c.p + len32;
    size_t cie_field = (size_t)(c.p - m->eh);
    if (get_bytes(&c, &cie_ptr, 4) < 0 || cie_ptr == 0 || cie_ptr > cie_field)
        return -1;
    cie_info cie;
    if (cie_parse(m, cie_field - cie_ptr, &cie) < 0)
        return -1;
    uint64_t start, range;
    uint64_t field_vaddr = m->eh_vaddr + (uint64_t)(c.p - m->eh);
    if (get_encoded(&c, cie.fde_enc, field_vaddr, m->hdr_vaddr, &start) < 0 ||
        get_encoded(&c, cie.fde_enc & 0x0f, 0, 0, &range) < 0)
        return -1;
    if (pc < start || pc >= start + range)
        return -1;
    uint64_t alen;
    if (get_uleb(&c, &alen) < 0 || alen > (uint64_t)(c.end - c.p))
        return -1;
    c.p += alen;
    memset(row, 0, sizeof(*row));
    if (cfi_run(cie.init, &cie, start, UINT64_MAX, row, NULL) < 0)
        return -1;
    cfi_row initial = *row;
    if (cfi_run(c, &cie, start, pc, row, &initial) < 0)
        return -1;
    if (cie.ra_reg != REG_RA)
        return -1;
    return 0;
}

/* --- unwinding --------------------------------------------------------------------- */

static void
name_frame(native_module *m, stacks_native_frame *f)
{
    f->module = m ? m->name : NULL;
    f->symbol = NULL;
    f->offset = 0;
    f->modoff = m ? f->pc - m->bias : 0;
    if (!m || !m->nsyms)
        return;
    uint64_t pc = f->pc - m->bias;
    size_t lo = 0, hi = m->nsyms;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (m->syms[mid].addr <= pc)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return;
    const struct nsym *s = &m->syms[lo - 1];
    /* a sized symbol must contain pc; an unsized one is trusted 64 KB */
    if ((s->size && pc >= s->addr + s->size) || (!s->size && pc - s->addr > 65536))
        return;
    f->symbol = m->strtab + s->name;
    f->offset = pc - s->addr;
}

int
stacks_native_is_eval(const stacks_native_frame *f)
{
    return f->symbol && strcmp(f->symbol, "_PyEval_EvalFrameDefault") == 0;
}

int
stacks_native_unwind(stacks_native *n, stacks_mem *mem, pid_t tid, stacks_native_frame *out,
                     int max)
{
    struct user_regs_struct ur;
    uint64_t regs[NREGS];
    int valid[NREGS];
    if (ptrace(PTRACE_GETREGS, tid, NULL, &ur) < 0)
        return -1;
    memset(valid, 0, sizeof(valid));
    /* DWARF numbering: rax rdx rcx rbx rsi rdi rbp rsp r8..r15 */
    const uint64_t init[16] = {ur.rax, ur.rdx, ur.rcx, ur.rbx, ur.rsi, ur.rdi, ur.rbp, ur.rsp,
                               ur.r8, ur.r9, ur.r10, ur.r11, ur.r12, ur.r13, ur.r14, ur.r15};
    for (int i = 0; i < 16; i++) {
        regs[i] = init[i];
        valid[i] = 1;
    }
    uint64_t pc = ur.rip;
    int count = 0;
    while (count < max && pc) {
        native_module *m = module_for(n, pc);
        out[count].pc = pc;
        name_frame(m, &out[count]);
        count++;
        if (!m)
            break;
        /* For a caller, pc is a return address: look up the call itself. */
        uint64_t lookup = pc - m->bias - (count > 1 ? 1 : 0);
        cfi_row row;
        if (row_for(m, lookup, &row) < 0 || row.cfa_expr || row.cfa_reg < 0 ||
            row.cfa_reg >= 16 || !valid[row.cfa_reg])
            break;
        uint64_t cfa = regs[row.cfa_reg] + (uint64_t)row.cfa_off;
        if (row.r[REG_RA].how != RULE_OFFSET)
            break;   /* undefined return address: the outermost frame */
        uint64_t next[NREGS];
        int nvalid[NREGS];
        memcpy(next, regs, sizeof(next));
        memcpy(nvalid, valid, sizeof(nvalid));
        for (int r = 0; r < NREGS; r++) {
            switch (row.r[r].how) {
            case RULE_OFFSET:
                nvalid[r] = stacks_mem_read_u64(mem, cfa + (uint64_t)row.r[r].arg, &next[r]) == 0;
                break;
            case RULE_VAL_OFFSET:
                next[r] = cfa + (uint64_t)row.r[r].arg;
                nvalid[r] = 1;
                break;
            case RULE_REGISTER:
                if (row.r[r].arg >= 0 && row.r[r].arg < 16) {
                    next[r] = regs[row.r[r].arg];
                    nvalid[r] = valid[row.r[r].arg];
                }
                else
                    nvalid[r] = 0;
                break;
            case RULE_UNDEFINED: case RULE_OTHER:
                nvalid[r] = 0;
                break;
            default:
                break;
            }
        }
        if (!nvalid[REG_RA])
            break;
        uint64_t new_pc = next[REG_RA];
        next[REG_RSP] = cfa;
        nvalid[REG_RSP] = 1;
        /* The stack grows down: a caller's frame is above its callee's. */
        if (cfa <= regs[REG_RSP] && count > 1)
            break;
        memcpy(regs, next, sizeof(regs));
        memcpy(valid, nvalid, sizeof(valid));
        pc = new_pc;
    }
    return count;
}
