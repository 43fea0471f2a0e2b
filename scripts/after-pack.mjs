// electron-builder afterPack hook: flips Electron's fuses in the packaged binary, before it is
// signed, so that the shipped app cannot be turned into something else:
//   RunAsNode off                        ELECTRON_RUN_AS_NODE cannot make it a plain Node.js
//   EnableNodeOptionsEnvironmentVariable off, EnableNodeCliInspectArguments off
//                                        NODE_OPTIONS and --inspect cannot inject code
//   OnlyLoadAppFromAsar on               it runs only the app in app.asar, never a folder beside it
//   EnableEmbeddedAsarIntegrityValidation on   and only an app.asar whose hash electron-builder
//                                        recorded (macOS and Windows; Linux has no such check)
//   EnableCookieEncryption on            cookies on disk are encrypted with the OS keychain
// GrantFileProtocolExtraPrivileges stays on: the window is loaded from file:// and Vite's
// module scripts need those privileges to load from there.
import { join } from 'node:path';
import { FuseV1Options, FuseVersion, flipFuses } from '@electron/fuses';

/** electron-builder's Arch enum value for arm64 (builder-util: ia32 0, x64 1, armv7l 2, arm64 3). */
const ARCH_ARM64 = 3;

export function fuseConfig(platformName, arch) {
  return {
    version: FuseVersion.V1,
    // Flipping fuses breaks the ad-hoc signature of an unsigned arm64 macOS binary; reset it.
    resetAdHocDarwinSignature: platformName === 'darwin' && arch === ARCH_ARM64,
    [FuseV1Options.RunAsNode]: false,
    [FuseV1Options.EnableCookieEncryption]: true,
    [FuseV1Options.EnableNodeOptionsEnvironmentVariable]: false,
    [FuseV1Options.EnableNodeCliInspectArguments]: false,
    [FuseV1Options.EnableEmbeddedAsarIntegrityValidation]: true,
    [FuseV1Options.OnlyLoadAppFromAsar]: true,
  };
}

/** The Electron executable inside electron-builder's output folder for each platform. */
export function electronBinaryPath(context) {
  const { appOutDir, electronPlatformName, packager } = context;
  if (electronPlatformName === 'darwin' || electronPlatformName === 'mas') {
    return join(appOutDir, `${packager.appInfo.productFilename}.app`);
  }
  if (electronPlatformName === 'win32') return join(appOutDir, `${packager.appInfo.productFilename}.exe`);
  return join(appOutDir, packager.executableName);
}

export default async function afterPack(context) {
  await flipFuses(electronBinaryPath(context), fuseConfig(context.electronPlatformName, context.arch));
}
