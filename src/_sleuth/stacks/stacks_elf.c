/* stacks_elf.c — /proc/PID/maps and ELF symbol tables.
 *
 * We parse the ELF file ourselves (headers, section headers, symbol and
 * string tables) with pread into bounded buffers; nothing of the file is
 * trusted: every offset and size is checked against the file size.
 */
#define _GNU_SOURCE
#include "stacks_elf.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const sym_names[STACKS_SYM_COUNT] = {
    "_PyRuntime", "Py_Version", "PyCode_Type", "_Py_NoneStruct",
    "_Py_TrueStruct", "_Py_FalseStruct", "PyLong_Type", "PyBool_Type",
    "PyFloat_Type", "PyUnicode_Type", "PyBytes_Type", "PyCell_Type",
    "PyDict_Type", "PyModule_Type",
};

/* Symbol tables larger than this are not read (libpython's is ~2 MB). */
#define ELF_MAX_TABLE (64u << 20)

typedef struct {
    uint64_t start;   /* address of the mapping at file offset 0 */
    int have_start;
} map_info;

static int
read_exact(int fd, void *buf, size_t len, uint64_t off, uint64_t fsize)
{
    if (off > fsize || len > fsize - off)
        return -1;
    size_t done = 0;
    while (done < len) {
        ssize_t n = pread(fd, (char *)buf + done, len - done, (off_t)(off + done));
        if (n <= 0)
            return -1;
        done += (size_t)n;
    }
    return 0;
}

/* Look up every still-missing wanted symbol in one symbol table section. */
static void
scan_symtab(int fd, uint64_t fsize, const Elf64_Shdr *sh, const Elf64_Shdr *strsh,
            uint64_t bias, stacks_syms *out)
{
    Elf64_Sym *syms = NULL;
    char *strs = NULL;

    if (sh->sh_size > ELF_MAX_TABLE || strsh->sh_size > ELF_MAX_TABLE ||
        sh->sh_entsize != sizeof(Elf64_Sym) || strsh->sh_size == 0)
        goto done;
    syms = malloc(sh->sh_size ? sh->sh_size : 1);
    strs = malloc(strsh->sh_size + 1);
    if (!syms || !strs)
        goto done;
    if (read_exact(fd, syms, sh->sh_size, sh->sh_offset, fsize) < 0 ||
        read_exact(fd, strs, strsh->sh_size, strsh->sh_offset, fsize) < 0)
        goto done;
    strs[strsh->sh_size] = '\0';
    size_t n = sh->sh_size / sizeof(Elf64_Sym);
    for (size_t i = 0; i < n; i++) {
        const Elf64_Sym *s = &syms[i];
        if (s->st_name >= strsh->sh_size || s->st_value == 0 || s->st_shndx == SHN_UNDEF)
            continue;
        int type = ELF64_ST_TYPE(s->st_info);
        if (type != STT_OBJECT && type != STT_NOTYPE)
            continue;
        const char *name = strs + s->st_name;
        if (name[0] != '_' && name[0] != 'P')
            continue;
        for (int k = 0; k < STACKS_SYM_COUNT; k++) {
            if (!out->addr[k] && strcmp(name, sym_names[k]) == 0) {
                out->addr[k] = s->st_value + bias;
                break;
            }
        }
    }
done:
    free(syms);
    free(strs);
}

/* Fill out->addr from the file at `path` mapped with its offset-0 page at
 * `start`. Returns 0 if _PyRuntime was found. */
static int
elf_lookup(pid_t pid, const char *path, uint64_t start, stacks_syms *out)
{
    Elf64_Shdr *shdrs = NULL;
    Elf64_Phdr *phdrs = NULL;
    int fd = -1, rc = -1;
    char full[PATH_MAX + 64];
    struct stat st;
    Elf64_Ehdr eh;

    /* Through /proc/PID/root so that a target in another mount namespace
     * (a container) is read from its own file system. */
    snprintf(full, sizeof(full), "/proc/%d/root%s", (int)pid, path);
    fd = open(full, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) < 0)
        goto done;
    uint64_t fsize = (uint64_t)st.st_size;
    if (read_exact(fd, &eh, sizeof(eh), 0, fsize) < 0 ||
        memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
        eh.e_shentsize != sizeof(Elf64_Shdr) || eh.e_phentsize != sizeof(Elf64_Phdr) ||
        eh.e_shnum == 0 || eh.e_shnum > 4096 || eh.e_phnum == 0 || eh.e_phnum > 4096)
        goto done;

    /* Load bias: where the lowest PT_LOAD segment's page landed, minus the
     * page address the file asked for (0 for shared objects and PIE). */
    phdrs = malloc(sizeof(Elf64_Phdr) * eh.e_phnum);
    if (!phdrs || read_exact(fd, phdrs, sizeof(Elf64_Phdr) * eh.e_phnum, eh.e_phoff, fsize) < 0)
        goto done;
    uint64_t first_vaddr = UINT64_MAX;
    for (int i = 0; i < eh.e_phnum; i++)
        if (phdrs[i].p_type == PT_LOAD && phdrs[i].p_offset == 0)
            first_vaddr = phdrs[i].p_vaddr & ~(uint64_t)0xfff;
    if (first_vaddr == UINT64_MAX)
        goto done;
    uint64_t bias = eh.e_type == ET_EXEC ? 0 : start - first_vaddr;

    shdrs = malloc(sizeof(Elf64_Shdr) * eh.e_shnum);
    if (!shdrs || read_exact(fd, shdrs, sizeof(Elf64_Shdr) * eh.e_shnum, eh.e_shoff, fsize) < 0)
        goto done;
    /* .dynsym first: it is small and holds every exported name we need. */
    for (int pass = 0; pass < 2; pass++) {
        uint32_t want = pass == 0 ? SHT_DYNSYM : SHT_SYMTAB;
        for (int i = 0; i < eh.e_shnum; i++) {
            if (shdrs[i].sh_type != want || shdrs[i].sh_link >= eh.e_shnum)
                continue;
            scan_symtab(fd, fsize, &shdrs[i], &shdrs[shdrs[i].sh_link], bias, out);
        }
        if (out->addr[STACKS_SYM_RUNTIME] && out->addr[STACKS_SYM_CODE_TYPE])
            break;
    }
    rc = out->addr[STACKS_SYM_RUNTIME] ? 0 : -1;
done:
    if (fd >= 0)
        close(fd);
    free(shdrs);
    free(phdrs);
    return rc;
}

/* "3.12" in ".../libpython3.12.so.1.0" or ".../python3.12" -> 12. */
static int
minor_from_name(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *p = strstr(base, "python3.");
    if (!p)
        return -1;
    p += strlen("python3.");
    int minor = 0, digits = 0;
    while (*p >= '0' && *p <= '9' && digits < 3) {
        minor = minor * 10 + (*p++ - '0');
        digits++;
    }
    return digits ? minor : -1;
}

int
stacks_elf_find(pid_t pid, stacks_syms *out, char *errmsg, size_t errlen)
{
    char mpath[64], line[PATH_MAX + 256];
    char libpath[PATH_MAX] = "";
    uint64_t libstart = 0, exestart = 0;
    int have_lib = 0, have_exe = 0;
    FILE *f = NULL;
    int rc = STACKS_ELF_ERROR;

    memset(out, 0, sizeof(*out));
    out->name_minor = -1;
    snprintf(mpath, sizeof(mpath), "/proc/%d/exe", (int)pid);
    ssize_t n = readlink(mpath, out->exe, sizeof(out->exe) - 1);
    out->exe[n > 0 ? n : 0] = '\0';

    snprintf(mpath, sizeof(mpath), "/proc/%d/maps", (int)pid);
    f = fopen(mpath, "re");
    if (!f) {
        rc = errno == ENOENT || errno == ESRCH ? STACKS_ELF_NO_PROCESS :
             (errno == EACCES || errno == EPERM) ? STACKS_ELF_DENIED : STACKS_ELF_ERROR;
        snprintf(errmsg, errlen, "cannot read %s: %s", mpath, strerror(errno));
        goto done;
    }
    int lines = 0;
    while (fgets(line, sizeof(line), f)) {
        lines++;
        unsigned long long start, end, off;
        int pathpos = 0;
        if (sscanf(line, "%llx-%llx %*s %llx %*s %*s %n", &start, &end, &off, &pathpos) < 3 ||
            pathpos <= 0)
            continue;
        char *path = line + pathpos;
        path[strcspn(path, "\n")] = '\0';
        if (path[0] != '/' || off != 0)
            continue;
        const char *base = strrchr(path, '/') + 1;
        if (!have_lib && strncmp(base, "libpython3.", 11) == 0) {
            snprintf(libpath, sizeof(libpath), "%s", path);
            libstart = start;
            have_lib = 1;
        }
        else if (!have_exe && strcmp(path, out->exe) == 0) {
            exestart = start;
            have_exe = 1;
        }
    }
    if (lines == 0) {
        /* A zombie or a kernel thread has no mappings; so does a process we
         * may not inspect on some kernels. */
        rc = STACKS_ELF_NOT_PYTHON;
        snprintf(errmsg, errlen, "process %d has no memory mappings (exited, zombie or kernel thread)", (int)pid);
        goto done;
    }
    if (have_lib) {
        memset(out->addr, 0, sizeof(out->addr));
        if (elf_lookup(pid, libpath, libstart, out) == 0) {
            snprintf(out->path, sizeof(out->path), "%s", libpath);
            out->name_minor = minor_from_name(libpath);
            rc = STACKS_ELF_OK;
            goto done;
        }
    }
    if (have_exe) {
        memset(out->addr, 0, sizeof(out->addr));
        if (elf_lookup(pid, out->exe, exestart, out) == 0) {
            snprintf(out->path, sizeof(out->path), "%s", out->exe);
            out->name_minor = minor_from_name(out->exe);
            rc = STACKS_ELF_OK;
            goto done;
        }
    }
    memset(out->addr, 0, sizeof(out->addr));
    out->name_minor = minor_from_name(have_lib ? libpath : out->exe);
    rc = STACKS_ELF_NOT_PYTHON;
    snprintf(errmsg, errlen, "no CPython runtime (_PyRuntime) found in %s",
             have_lib ? libpath : (out->exe[0] ? out->exe : "its mappings"));
done:
    if (f)
        fclose(f);
    return rc;
}
