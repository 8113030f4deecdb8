/* The few LibRaw facts photofinder reads, behind plain functions, so the
 * Rust side never depends on the layout of LibRaw's structs (which changes
 * between releases): compiled against the installed libraw.h. */
#include <stddef.h>
#include <string.h>
#include <libraw/libraw.h>

typedef struct {
    int width, height;  /* the developed image, before rotation */
    int flip;           /* LibRaw's: 0 none, 3 180, 5 90 anticlockwise, 6 90 clockwise */
    long long timestamp;/* capture time as LibRaw's mktime made it (local time), 0 unknown */
    char make[64], model[64], lens[128];
} pf_raw_info;

void *pf_raw_open(const void *bytes, size_t len, int *err) {
    libraw_data_t *raw = libraw_init(0);
    if (!raw) { *err = LIBRAW_UNSUFFICIENT_MEMORY; return NULL; }
    *err = libraw_open_buffer(raw, (void *)bytes, len);
    if (*err != LIBRAW_SUCCESS) { libraw_close(raw); return NULL; }
    return raw;
}

static void copy(char *to, size_t size, const char *from) {
    size_t n = strnlen(from, size - 1);
    memcpy(to, from, n);
    to[n] = 0;
}

void pf_raw_info_of(void *handle, pf_raw_info *out) {
    libraw_data_t *raw = handle;
    memset(out, 0, sizeof *out);
    out->width = raw->sizes.width;
    out->height = raw->sizes.height;
    out->flip = raw->sizes.flip;
    out->timestamp = (long long)raw->other.timestamp;
    copy(out->make, sizeof out->make, raw->idata.make);
    copy(out->model, sizeof out->model, raw->idata.model);
    copy(out->lens, sizeof out->lens, raw->lens.Lens[0] ? raw->lens.Lens : raw->lens.makernotes.Lens);
}

/* The embedded preview: 1 JPEG, 2 RGB bitmap (*width x *height), else an error.
 * The bytes stay valid until pf_raw_close. */
int pf_raw_preview(void *handle, const unsigned char **data, size_t *len, int *width, int *height) {
    libraw_data_t *raw = handle;
    int err = libraw_unpack_thumb(raw);
    if (err != LIBRAW_SUCCESS) return err;
    *data = (const unsigned char *)raw->thumbnail.thumb;
    *len = raw->thumbnail.tlength;
    *width = raw->thumbnail.twidth;
    *height = raw->thumbnail.theight;
    if (raw->thumbnail.tformat == LIBRAW_THUMBNAIL_JPEG) return 1;
    if (raw->thumbnail.tformat == LIBRAW_THUMBNAIL_BITMAP && raw->thumbnail.tcolors == 3) return 2;
    return LIBRAW_FILE_UNSUPPORTED;
}

/* Demosaic with the camera's white balance into 8-bit sRGB, at half size
 * where asked (a 2x2 block per pixel: four times less work). The image is
 * rotated by the file's flip. Free it with pf_raw_free. */
libraw_processed_image_t *pf_raw_develop(void *handle, int half_size, int *err) {
    libraw_data_t *raw = handle;
    raw->params.use_camera_wb = 1;
    raw->params.half_size = half_size;
    raw->params.output_bps = 8;
    *err = libraw_unpack(raw);
    if (*err != LIBRAW_SUCCESS) return NULL;
    *err = libraw_dcraw_process(raw);
    if (*err != LIBRAW_SUCCESS) return NULL;
    return libraw_dcraw_make_mem_image(raw, err);
}

const unsigned char *pf_raw_pixels(libraw_processed_image_t *image, int *width, int *height, int *colors, int *bits) {
    *width = image->width;
    *height = image->height;
    *colors = image->colors;
    *bits = image->bits;
    return image->data;
}

void pf_raw_free(libraw_processed_image_t *image) { libraw_dcraw_clear_mem(image); }
void pf_raw_close(void *handle) { libraw_close(handle); }
const char *pf_raw_strerror(int err) { return libraw_strerror(err); }
