# toon_image: streaming readers and writers of JPEG, PNG, WebP and raw pixels, EXIF, resizing,
# bilinear sampling and affine warps.
toon_library(toon_image image
  affine.c
  exif.c
  image.c
  jpeg_dec.c
  jpeg_enc.c
  jpeg_err.c
  png_alloc.c
  png_dec.c
  png_enc.c
  raw.c
  reader.c
  resize.c
  vp8l_scan.c
  webp_dec.c
  webp_enc.c
  writer.c)
target_link_libraries(toon_image PUBLIC toon_core PRIVATE PkgConfig::SPNG PkgConfig::WEBP
                                                          PkgConfig::EXIF JPEG::JPEG)
