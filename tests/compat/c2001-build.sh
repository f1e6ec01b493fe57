#!/usr/bin/env bash
# build: -t, the config it writes, run of the result, -f, --build-arg.
. "$(dirname "$0")/lib.sh"
ctx "$T/c" <<'DF'
FROM busybox
ARG GREETING=hello
ENV APP_HOME=/app GREETING=$GREETING
WORKDIR /app
COPY msg.txt .
RUN echo built > /app/built.txt
EXPOSE 8080
LABEL org.example.team=core
CMD ["sh", "-c", "cat msg.txt built.txt; echo $GREETING"]
DF
echo message >"$T/c/msg.txt"
d build -q -t app:1 "$T/c" >/dev/null; ok $? "build -t"
is "$(d run --rm app:1 | tr '\n' ' ')" "message built hello " "run of the image"
is "$(d inspect -f '{{.Config.WorkingDir}}' app:1)" /app "WORKDIR"
is "$(d inspect -f '{{json .Config.Cmd}}' app:1)" '["sh","-c","cat msg.txt built.txt; echo $GREETING"]' "CMD"
like "$(d inspect -f '{{json .Config.Env}}' app:1)" '"APP_HOME=/app","GREETING=hello"' "ENV"
is "$(d inspect -f '{{json .Config.ExposedPorts}}' app:1)" '{"8080/tcp":{}}' "EXPOSE"
is "$(d inspect -f '{{index .Config.Labels "org.example.team"}}' app:1)" core "LABEL"
d build -q --build-arg GREETING=bonjour -t app:2 "$T/c" >/dev/null
is "$(d run --rm app:2 | tail -1)" bonjour "--build-arg"
cp "$T/c/Dockerfile" "$T/Other.df"
d build -q -f "$T/Other.df" -t app:3 "$T/c" >/dev/null; ok $? "-f elsewhere"
is "$(d run --rm app:3 cat /app/msg.txt)" message "and its context"
done_testing
