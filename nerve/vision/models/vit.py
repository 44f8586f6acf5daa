"""Vision Transformer (Dosovitskiy et al., 2021) sized for small images."""
from __future__ import annotations

import nerve
from nerve import nn

__all__ = ["VisionTransformer", "vit_small"]


class VisionTransformer(nn.Module):
    """ViT: patches -> linear embedding + [CLS] + learned positions -> pre-norm encoder -> LayerNorm -> head.

    The image is cut into (image_size / patch_size)^2 non-overlapping patches, each embedded by
    ``patch_embed``, a Conv2d with kernel = stride = patch_size (the same as flattening each patch and
    applying one Linear). A learned ``cls_token`` is prepended, learned ``pos_embed`` vectors are added,
    ``depth`` ``nn.TransformerEncoderLayer(norm_first=True, activation='gelu')`` blocks run, and ``head``
    classifies the normalised [CLS] vector (``pool='cls'``) or the mean of the patch vectors
    (``pool='mean'``).

    Args:
        image_size: height and width of the (square) input images.
        patch_size: side of each square patch; must divide image_size.
        in_channels: 1 for grey images, 3 for RGB.
        num_classes: outputs of the head.
        d_model: token width.
        depth: encoder blocks.
        n_heads: attention heads (must divide d_model).
        mlp_dim: hidden width of each block's MLP.
        dropout: dropout on the embeddings, attention weights and residual branches.
        pool: ``'cls'`` or ``'mean'``.

    Shape: (N, in_channels, image_size, image_size) -> (N, num_classes).

    Example:
        >>> net = VisionTransformer(image_size=28, patch_size=7, num_classes=10, d_model=32, depth=2)
        >>> net(nerve.randn(2, 1, 28, 28)).shape
        nerve.Size([2, 10])
    """

    def __init__(self, image_size: int = 28, patch_size: int = 7, in_channels: int = 1, num_classes: int = 10,
                 d_model: int = 64, depth: int = 4, n_heads: int = 4, mlp_dim: int = 128, dropout: float = 0.1,
                 pool: str = "cls") -> None:
        super().__init__()
        if image_size % patch_size:
            raise ValueError(f"VisionTransformer: image_size={image_size} is not divisible by "
                             f"patch_size={patch_size}; pick a patch size that divides it (e.g. "
                             f"{[p for p in range(2, image_size) if image_size % p == 0][:6]})")
        if pool not in ("cls", "mean"):
            raise ValueError(f"VisionTransformer: unknown pool {pool!r} (choose from ['cls', 'mean'])")
        if d_model % n_heads:
            raise ValueError(f"VisionTransformer: d_model={d_model} must be divisible by n_heads={n_heads}")
        self.image_size, self.patch_size, self.in_channels, self.pool = image_size, patch_size, in_channels, pool
        self.num_patches = (image_size // patch_size) ** 2
        self.patch_embed = nn.Conv2d(in_channels, d_model, kernel_size=patch_size, stride=patch_size)
        self.cls_token = nn.Parameter(nerve.zeros(1, 1, d_model))
        self.pos_embed = nn.Parameter(nerve.zeros(1, self.num_patches + 1, d_model))
        self.drop = nn.Dropout(dropout)
        self.blocks = nn.ModuleList([
            nn.TransformerEncoderLayer(d_model, n_heads, mlp_dim, dropout, activation="gelu", batch_first=True,
                                       norm_first=True)
            for _ in range(depth)])
        self.norm = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, num_classes)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        nn.init.trunc_normal_(self.pos_embed, std=0.02)
        nn.init.trunc_normal_(self.cls_token, std=0.02)

    def forward(self, x):
        expected = (self.in_channels, self.image_size, self.image_size)
        if x.dim() != 4 or tuple(x.shape[1:]) != expected:
            raise ValueError(f"VisionTransformer: expected images of shape (N, {expected[0]}, {expected[1]}, "
                             f"{expected[2]}), got {tuple(x.shape)}")
        n = x.shape[0]
        x = self.patch_embed(x).flatten(2).transpose(1, 2)  # (N, num_patches, d_model)
        x = nerve.cat([self.cls_token.expand(n, 1, x.shape[-1]), x], 1)
        x = self.drop(x + self.pos_embed)
        for block in self.blocks:
            x = block(x)
        x = self.norm(x)
        return self.head(x[:, 0] if self.pool == "cls" else x[:, 1:].mean(1))

    def extra_repr(self) -> str:
        return f"image_size={self.image_size}, patch_size={self.patch_size}, pool={self.pool!r}"


def vit_small(num_classes: int = 10, in_channels: int = 1, **kwargs) -> VisionTransformer:
    """A small ViT for 28x28 images: 7x7 patches (16 tokens + CLS), width 64, 4 blocks of 4 heads, MLP 128.

    Keyword arguments override VisionTransformer's (e.g. ``image_size=32, patch_size=4`` for CIFAR-10).

    Example:
        >>> net = vit_small(10, 1)
        >>> net(nerve.randn(2, 1, 28, 28)).shape
        nerve.Size([2, 10])
    """
    return VisionTransformer(num_classes=num_classes, in_channels=in_channels, **kwargs)
