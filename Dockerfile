# Dockerfile - one image for the Locust master and the C workers.
#
# The build stage compiles the example workers (build/hello-worker,
# build/opscore-worker) with the -dev packages; the runtime stage carries
# their runtime libraries, the pinned Locust (test/requirements.txt) in
# /opt/venv for the master and for stock Python workers, the Ops-Core
# stand-in and redis-server for examples/opscore/compose.yaml. It runs as
# uid 1000. The entrypoint (docker/entrypoint.sh, installed as `locust`)
# execs the C worker named by LW_WORKER when `--worker` is among the
# arguments or LOCUST_MODE_WORKER=true, and Locust itself otherwise.
#
#   docker build -t locust-c-worker .        (BuildKit: make image does it here)
#
# Optional build secrets, used only while building and never stored in the
# image: `cacert` (a CA bundle for pip, for hosts whose HTTPS goes through
# their own CA) and `aptconf` (an apt.conf fragment: proxy, mirror options).

FROM debian:bookworm-slim AS build
RUN --mount=type=secret,id=aptconf,target=/etc/apt/apt.conf.d/99build \
    apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential pkg-config libzmq3-dev libmsgpack-dev libcurl4-openssl-dev \
      libev-dev libssl-dev libc-ares-dev python3 python3-venv ca-certificates \
 && apt-get clean && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY test/requirements.txt test/requirements.txt
# Locust and the stand-in's packages at the versions the test suite pins
RUN --mount=type=secret,id=cacert \
    if [ -s /run/secrets/cacert ]; then export PIP_CERT=/run/secrets/cacert; fi \
 && python3 -m venv /opt/venv \
 && /opt/venv/bin/pip install --no-cache-dir --disable-pip-version-check \
      -c test/requirements.txt locust fastapi uvicorn redis \
 && /opt/venv/bin/locust --version
COPY Makefile ./
COPY proto proto
COPY worker worker
COPY examples examples
RUN make -j"$(nproc)" build/hello-worker build/opscore-worker \
 && strip build/hello-worker build/opscore-worker

FROM debian:bookworm-slim
RUN --mount=type=secret,id=aptconf,target=/etc/apt/apt.conf.d/99build \
    apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libzmq5 libmsgpackc2 libcurl4 libev4 libssl3 libc-ares2 ca-certificates python3 redis-server \
 && apt-get clean && rm -rf /var/lib/apt/lists/* \
 && useradd --uid 1000 --user-group --create-home --shell /bin/sh locust
COPY --from=build /opt/venv /opt/venv
COPY --from=build /src/build/hello-worker /src/build/opscore-worker /opt/lw/bin/
COPY examples/hello/locustfile.py /opt/lw/examples/hello/
COPY examples/opscore/locustfile.py examples/opscore/sample_workflow.json /opt/lw/examples/opscore/
COPY examples/opscore/standin /opt/lw/examples/opscore/standin
COPY docker/entrypoint.sh /usr/local/bin/locust
ENV PATH=/usr/local/bin:/opt/lw/bin:/opt/venv/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    LW_WORKER=opscore \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /opt/lw
USER 1000:1000
EXPOSE 8089 5557
ENTRYPOINT ["/usr/local/bin/locust"]
