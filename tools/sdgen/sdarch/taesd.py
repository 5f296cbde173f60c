# TAESD, madebyollin's Tiny AutoEncoder for Stable Diffusion, copied from madebyollin/taesd
# taesd.py (commit 5cccb12d): conv, Clamp, Block, Encoder, Decoder (the SD 1.x / 2.x variant:
# 4 latent channels, no mid-block GroupNorm), MIT License, Copyright (c) 2023 Ollin Boer Bohan.
# The wrappers at the end follow huggingface/diffusers (commit 58eb52c0)
# src/diffusers/models/autoencoders/vae.py EncoderTiny.forward / DecoderTiny.forward, the
# convention of diffusers' AutoencoderTiny (scaling_factor 1.0):
#   encoder: image in [-1, 1] -> x.add(1).div(2) -> taesd Encoder -> latent in the UNet's scale
#   decoder: the UNet's latent as it is -> taesd Decoder (its first layer is the tanh(x/3)*3
#            Clamp) -> x.mul(2).sub(1): image in [-1, 1]
# Changes: none to the networks (DecoderTiny applies the Clamp outside its layers; taesd.py
# has it as the first layer: the same function); no weight loading, latent (de)quantizing
# helpers or demo.
import torch
import torch.nn as nn


def conv(n_in, n_out, **kwargs):
    return nn.Conv2d(n_in, n_out, 3, padding=1, **kwargs)


class Clamp(nn.Module):
    def forward(self, x):
        return torch.tanh(x / 3) * 3


class Block(nn.Module):
    def __init__(self, n_in, n_out):
        super().__init__()
        self.conv = nn.Sequential(conv(n_in, n_out), nn.ReLU(), conv(n_out, n_out), nn.ReLU(), conv(n_out, n_out))
        self.skip = nn.Conv2d(n_in, n_out, 1, bias=False) if n_in != n_out else nn.Identity()
        self.fuse = nn.ReLU()

    def forward(self, x):
        return self.fuse(self.conv(x) + self.skip(x))


def Encoder(latent_channels=4):
    return nn.Sequential(
        conv(3, 64), Block(64, 64),
        conv(64, 64, stride=2, bias=False), Block(64, 64), Block(64, 64), Block(64, 64),
        conv(64, 64, stride=2, bias=False), Block(64, 64), Block(64, 64), Block(64, 64),
        conv(64, 64, stride=2, bias=False), Block(64, 64), Block(64, 64), Block(64, 64),
        conv(64, latent_channels),
    )


def Decoder(latent_channels=4):
    return nn.Sequential(
        Clamp(), conv(latent_channels, 64), nn.ReLU(),
        Block(64, 64), Block(64, 64), Block(64, 64), nn.Upsample(scale_factor=2), conv(64, 64, bias=False),
        Block(64, 64), Block(64, 64), Block(64, 64), nn.Upsample(scale_factor=2), conv(64, 64, bias=False),
        Block(64, 64), Block(64, 64), Block(64, 64), nn.Upsample(scale_factor=2), conv(64, 64, bias=False),
        Block(64, 64), conv(64, 3),
    )


class TinyEncoder(nn.Module):
    """vae_encoder_tiny: diffusers EncoderTiny.forward, sample in [-1, 1] -> latent_sample."""

    def __init__(self, encoder):
        super().__init__()
        self.encoder = encoder

    def forward(self, sample):
        # scale image from [-1, 1] to [0, 1] to match TAESD convention
        return self.encoder(sample.add(1).div(2))


class TinyDecoder(nn.Module):
    """vae_decoder_tiny: diffusers DecoderTiny.forward, latent_sample -> sample in [-1, 1]."""

    def __init__(self, decoder):
        super().__init__()
        self.decoder = decoder

    def forward(self, latent_sample):
        # scale image from [0, 1] to [-1, 1] to match diffusers convention
        return self.decoder(latent_sample).mul(2).sub(1)
