#!/usr/bin/env python3
"""Write a realistic Dockerfile of about N lines (default 20000) to stdout:
many stages, each with ARG/ENV/LABEL, long continued RUNs, COPY --from,
RUN --mount, a heredoc, EXPOSE, HEALTHCHECK, and a final stage using them."""
import sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
out = ['# syntax=docker/dockerfile:1', 'ARG BASE=debian:bookworm-slim', 'ARG VERSION=1.0']
stage = 0
while len(out) < n - 30:
    s = f's{stage}'
    out += [
        f'FROM ${{BASE}} AS {s}',
        'ARG VERSION',
        f'ARG STAGE_ARG_{stage}=value{stage}',
        f'ENV APP_HOME=/opt/app{stage} PATH=/opt/app{stage}/bin:$PATH LANG=C.UTF-8',
        f'LABEL org.example.stage="{s}" org.example.version=$VERSION',
        'WORKDIR $APP_HOME',
        'RUN apt-get update && \\',
        '    apt-get install -y --no-install-recommends \\',
        '        ca-certificates \\',
        '        curl \\',
        '        git \\',
        '    # a comment inside the continuation',
        '        make && \\',
        '    rm -rf /var/lib/apt/lists/*',
        f'COPY --chown=1000:1000 --chmod=0644 src/{s}/ ./src/',
        'RUN --mount=type=cache,target=/root/.cache,sharing=locked \\',
        f'    --mount=type=secret,id=token{stage} \\',
        f'    make -C src STAGE={s} VERSION="${{VERSION:-dev}}"',
        'RUN <<EOF',
        'set -e',
        f'echo "stage {s}" > /stage',
        'EOF',
        'EXPOSE 8080 9000-9002/udp',
        'HEALTHCHECK --interval=30s --timeout=3s CMD ["curl", "-f", "http://localhost:8080/"]',
        'USER 1000:1000',
    ]
    if stage > 0:
        out.append(f'COPY --from=s{stage - 1} /stage /prev-stage')
    stage += 1
out += ['FROM scratch AS final']
# the last stage chains back to the first: the whole file is planned
for i in range(max(0, stage - (n - len(out) - 1)), stage):
    out.append(f'COPY --from=s{i} /stage /stages/{i}')
out += ['CMD ["/bin/app"]']
print('\n'.join(out))
