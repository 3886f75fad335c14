# One image for every Mailroot role and for the Kafka nodes of a self-contained cluster:
#   docker run mailroot run ingress     roles against kafka.bootstrap (MAILROOT_KAFKA_BOOTSTRAP)
#   docker run mailroot broker          a KRaft node (MAILROOT_BROKER_* settings)
#   docker run mailroot start           every role beside an embedded broker, as on one machine
# Settings come from MAILROOT_* variables (see the README) or a file named by MAILROOT_CONFIG.
# Where no registry is reachable, docker/base-image.sh makes debian:bookworm-slim from Debian's packages first.

FROM debian:bookworm-slim AS jre
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends openjdk-17-jre-headless ca-certificates >/dev/null \
 && rm -rf /var/lib/apt/lists/*

FROM jre AS build
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends openjdk-17-jdk-headless >/dev/null \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# The poms alone first: the dependencies are then a layer of their own, reused while only sources change.
COPY mvnw pom.xml ./
COPY .mvn .mvn
COPY core/pom.xml core/
COPY broker/pom.xml broker/
COPY testkit/pom.xml testkit/
COPY ingress/pom.xml ingress/
COPY router/pom.xml router/
COPY deliverer/pom.xml deliverer/
COPY ndr-service/pom.xml ndr-service/
COPY queue-view/pom.xml queue-view/
COPY launcher/pom.xml launcher/
RUN ./mvnw -B -ntp -q -Dmaven.test.skip=true package >/dev/null || true
COPY . .
RUN ./mvnw -B -ntp -q -o -Dmaven.test.skip=true package

FROM jre
RUN useradd --system --uid 10025 --user-group --home-dir /var/lib/mailroot --create-home --shell /usr/sbin/nologin mailroot \
 && mkdir -p /var/lib/mailroot/data /var/spool/mailroot \
 && chown mailroot:mailroot /var/lib/mailroot/data /var/spool/mailroot \
 && chmod 0700 /var/lib/mailroot/data
COPY --from=build /src/launcher/target/lib/ /opt/mailroot/lib/
COPY --from=build /src/launcher/target/mailroot-launcher.jar /opt/mailroot/
COPY docker/mailroot.sh /usr/local/bin/mailroot
COPY docker/healthcheck.sh /usr/local/bin/mailroot-health
USER mailroot
WORKDIR /var/lib/mailroot
# dataDir (the node's own state: its id, an embedded or cluster broker's log) and the mailroot folders (Pickup,
# Drop, Badmail), which a cluster shares on one volume.
ENV MAILROOT_DATA_DIR=/var/lib/mailroot/data \
    MAILROOT_MAILROOT=/var/spool/mailroot \
    MAILROOT_JAVA_OPTS="-XX:MaxRAMPercentage=50 -XX:+UseSerialGC -XX:+ExitOnOutOfMemoryError"
# 8026: the admin listener (/metrics for Prometheus, /health/live, /health/ready); MAILROOT_ADMIN_ADDRESSES=[0.0.0.0] to reach it
EXPOSE 2525 8026 9092 9093
HEALTHCHECK --interval=5s --timeout=4s --start-period=120s --retries=3 CMD ["mailroot-health"]
ENTRYPOINT ["mailroot"]
CMD ["start"]
