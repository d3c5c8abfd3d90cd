"""Ed25519 keys for signing evidence bundles: read them in the forms people have, make new ones.

A private key file is PEM (PKCS#8, ``-----BEGIN PRIVATE KEY-----``, unencrypted), an OpenSSH
private key (``ssh-keygen -t ed25519 -N ''``) or the raw 32 bytes of the seed. A public key file
is PEM (``-----BEGIN PUBLIC KEY-----``), an OpenSSH line (``ssh-ed25519 AAAA...``) or the raw 32
bytes. A key's fingerprint is ``SHA256:`` and the hex sha256 of its 32 raw public bytes.
"""

from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ..errors import InputError, UsageError

RAW_SIZE = 32
SIGNATURE_SIZE = 64


def load_private_key(path: str | os.PathLike[str]) -> Ed25519PrivateKey:
    data = _read(path, "signing key")
    if len(data) == RAW_SIZE:
        return Ed25519PrivateKey.from_private_bytes(data)
    try:
        if data.lstrip().startswith(b"-----BEGIN OPENSSH PRIVATE KEY-----"):
            key = serialization.load_ssh_private_key(data, password=None)
        else:
            key = serialization.load_pem_private_key(data, password=None)
    except TypeError as exc:  # encrypted
        raise InputError("is an encrypted private key", path=str(path),
                         hint="use an unencrypted Ed25519 key kept readable only by you "
                              "(inspector keygen FILE makes one)") from exc
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise InputError("is not an Ed25519 private key (PEM, OpenSSH or 32 raw bytes)",
                         path=str(path), hint="inspector keygen FILE makes one") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise InputError(f"is a {type(key).__name__.removesuffix('PrivateKey')} key, not "
                         "Ed25519", path=str(path), hint="inspector keygen FILE makes one")
    return key


def load_public_key(path: str | os.PathLike[str]) -> Ed25519PublicKey:
    data = _read(path, "public key")
    if len(data) == RAW_SIZE:
        return Ed25519PublicKey.from_public_bytes(data)
    try:
        if data.lstrip().startswith(b"ssh-"):
            key = serialization.load_ssh_public_key(data.strip())
        else:
            key = serialization.load_pem_public_key(data)
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise InputError("is not an Ed25519 public key (PEM, OpenSSH or 32 raw bytes)",
                         path=str(path), hint="pass the FILE.pub written by inspector keygen"
                         ) from exc
    if not isinstance(key, Ed25519PublicKey):
        raise InputError("is not an Ed25519 public key", path=str(path))
    return key


def raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def fingerprint(key: Ed25519PublicKey) -> str:
    return "SHA256:" + hashlib.sha256(raw_public(key)).hexdigest()


def public_from_base64(text: str) -> Ed25519PublicKey | None:
    """The public key as bag-info.txt carries it; None when it is not one."""
    try:
        raw = base64.b64decode(text, validate=True)
    except ValueError:
        return None
    if len(raw) != RAW_SIZE or base64.b64encode(raw).decode() != text:
        return None
    return Ed25519PublicKey.from_public_bytes(raw)


def signature_valid(key: Ed25519PublicKey, signature: bytes, data: bytes) -> bool:
    try:
        key.verify(signature, data)
    except InvalidSignature:
        return False
    return True


def generate_key_pair(path: str | os.PathLike[str], *, force: bool = False) -> tuple[Path, Path,
                                                                                      str]:
    """Write a new private key to ``path`` (PEM, mode 0600) and its public key to ``path.pub``.

    Returns both paths and the fingerprint. Refuses to replace either file unless ``force``.
    """
    private_path = Path(path)
    public_path = private_path.with_name(private_path.name + ".pub")
    if not private_path.parent.is_dir():
        raise UsageError("the folder to write into does not exist", path=str(private_path))
    for target in (private_path, public_path):
        if os.path.lexists(target) and not force:
            raise UsageError("already exists", path=str(target),
                             hint="choose another FILE, or add --force to replace it")
    key = Ed25519PrivateKey.generate()
    private_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
    public_pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo)
    _write(private_path, private_pem, 0o600)
    _write(public_path, public_pem, 0o644)
    return private_path, public_path, fingerprint(key.public_key())


def _read(path: str | os.PathLike[str], what: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            data = handle.read(64 * 1024 + 1)
    except OSError as exc:
        raise InputError(f"cannot read the {what} ({exc.strerror or exc})", path=str(path)
                         ) from exc
    if len(data) > 64 * 1024:
        raise InputError(f"is too large to be a {what}", path=str(path))
    return data


def _write(path: Path, data: bytes, mode: int) -> None:
    """Written beside ``path`` and renamed into place; created with ``mode`` (less the umask),
    so a private key is never readable by others, not even for a moment."""
    temp = path.with_name(f".{path.name}.{os.urandom(6).hex()}.part")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise

