# voxq: one image for workers, the demo and the CLI. espeak-ng (TTS), ffmpeg/ffprobe (audio
# probing) come from Debian.
FROM node:20-bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends espeak-ng ffmpeg \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# onnxruntime-node (Silero VAD, Kokoro) ships its CPU runtime; its install script would fetch CUDA
# libraries (for VOXQ_KOKORO_DEVICE=cuda, build with ONNXRUNTIME_NODE_INSTALL unset on a CUDA base image).
ENV ONNXRUNTIME_NODE_INSTALL=skip
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY assets ./assets
COPY tests/support/ferretdb ./tests/support/ferretdb
RUN npm ci --no-audit --no-fund && npm prune --omit=dev
# Kokoro's model cache (VOXQ_KOKORO_CACHE_DIR in docker-compose.yml): a volume the node user can fill.
RUN mkdir -p /models && chown node:node /models
USER node
ENTRYPOINT ["node", "dist/cli.js"]
CMD ["--help"]
