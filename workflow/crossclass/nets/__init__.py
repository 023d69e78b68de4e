"""Built-in network plugins (entry-point group "crossclass.networks").

Each is a callable(in_shape, num_classes, **options) -> nn.Module with a `width` multiplier.
Every hidden fully connected layer is an nn.Linear and the classifier is the LAST nn.Linear in
`model.modules()`, so layer-wise analysis can hook them. Convolutional nets carry the attribute
`image_size = 32`: their inputs must be adapted to 32x32 first (crossclass.data.adapt_inputs).
"""

from crossclass.nets.mlp import mlp
from crossclass.nets.resnet import resnet18
from crossclass.nets.vgg import vgg11

__all__ = ["mlp", "resnet18", "vgg11"]
