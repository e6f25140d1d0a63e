export const VOXQ_VERSION = '0.1.0';
