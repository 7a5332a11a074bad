# toonify in a container: Debian 12 slim, built in one stage and run from a second that holds only
# the runtime libraries, the binary, the shared library and the models.
#
#   tools/container-context.sh ctx      # the sources plus models/ with its symlinks resolved
#   podman build -t toonify ctx         # or docker build
#   podman run --rm -p 7860:7860 --memory 300m toonify
#   docker compose up                   # compose.yaml: the same with a memory limit
#
# The service reads its memory limit from the container's cgroup and plans every job against
# it, so a small limit makes jobs wait (or answers 413 with a size that fits), never an OOM kill.
ARG BASE=debian:12-slim

FROM ${BASE} AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential cmake pkg-config \
      libdnnl-dev libjpeg62-turbo-dev libspng-dev libwebp-dev libexif-dev \
      libmicrohttpd-dev libzip-dev libcjson-dev libhiredis-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr/local \
 && cmake --build build -j"$(nproc)" --target toonify toonify_shared toonify_static \
 && DESTDIR=/stage cmake --install build \
 && rm -rf /stage/usr/local/include /stage/usr/local/lib/pkgconfig /stage/usr/local/lib/*.a

FROM ${BASE}
RUN apt-get update \
 && apt-get install -y --no-install-recommends libdnnl2 libgomp1 libjpeg62-turbo libspng0 \
      libwebp7 libexif12 libmicrohttpd12 libzip4 libcjson1 libhiredis0.14 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /var/lib/toonify --create-home toonify
COPY --from=build /stage/usr/local/ /usr/local/
RUN ldconfig
USER toonify
WORKDIR /var/lib/toonify
EXPOSE 7860
VOLUME ["/var/lib/toonify/outputs"]
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/7860 && printf 'GET /healthz HTTP/1.0\\r\\n\\r\\n' >&3 && head -n1 <&3 | grep -q ' 200 '"]
ENTRYPOINT ["toonify"]
CMD ["serve", "--host", "0.0.0.0", "--port", "7860", "--outputs", "/var/lib/toonify/outputs", "--workers", "2"]
