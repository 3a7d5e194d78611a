# leaksweep in a container: `docker build -t leaksweep .` needs nothing but this repository (the
# build stage fetches the crates of Cargo.lock). The final image holds one static binary on Alpine,
# runs as an unprivileged user, and scans the directory mounted at /src:
#
#   docker run --rm -v "$PWD:/src" leaksweep            # leaksweep scan .
#   docker run --rm -v "$PWD:/src" leaksweep git        # the whole history of the mounted repository

FROM rust:1-alpine AS build
# A C compiler for the vendored libgit2.
RUN apk add --no-cache build-base
WORKDIR /build
COPY . .
RUN cargo build --release --locked && strip target/release/leaksweep

FROM alpine:3
# An unprivileged user. The mounted repository belongs to another user id, so its git config
# marks every directory safe (libgit2 refuses a repository owned by someone else otherwise).
RUN adduser -D -H -u 10001 -h /home/leaksweep leaksweep \
    && mkdir -p /home/leaksweep /src \
    && printf '[safe]\n\tdirectory = *\n' > /home/leaksweep/.gitconfig \
    && chown -R leaksweep:leaksweep /home/leaksweep
COPY --from=build /build/target/release/leaksweep /usr/local/bin/leaksweep
USER leaksweep
ENV HOME=/home/leaksweep
WORKDIR /src
ENTRYPOINT ["leaksweep"]
CMD ["scan", "."]
