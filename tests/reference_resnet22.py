"""The seed's resnet22, written by hand from seed/custom-resnet.md, in the seed's style.

This is the golden reference: `specs/resnet22.yaml` must compile into exactly this model.
It imports nothing from archspec.
"""

from keras.layers import Add, BatchNormalization, Conv2D, Dense, Flatten, Input, ReLU
from keras.models import Model


def res_identity(x, filters):
    # full pre-activation
    x_skip = x
    f1, f2 = filters

    x = BatchNormalization()(x)
    x = ReLU()(x)
    x = Conv2D(f1, kernel_size=(3, 3), strides=(1, 1), padding="same")(x)

    x = BatchNormalization()(x)
    x = ReLU()(x)
    x = Conv2D(f2, kernel_size=(3, 3), strides=(1, 1), padding="same")(x)

    x = Add()([x, x_skip])
    return x


def res_conv(x, s, filters):
    # here the input size changes
    x_skip = x
    f1, f2 = filters

    x = BatchNormalization()(x)
    x = ReLU()(x)
    x = Conv2D(f1, kernel_size=(3, 3), strides=(s, s), padding="same")(x)

    x = BatchNormalization()(x)
    x = ReLU()(x)
    x = Conv2D(f1, kernel_size=(3, 3), strides=(1, 1), padding="same")(x)

    x_skip = Conv2D(f2, kernel_size=(1, 1), strides=(s, s), padding="same")(x_skip)

    x = Add()([x, x_skip])
    return x


def resnet22():
    input_im = Input(shape=(256, 256, 3))

    x = Conv2D(16, kernel_size=(3, 3), strides=2, padding="same")(input_im)
    x = BatchNormalization()(x)
    x = ReLU()(x)

    x = res_conv(x, s=2, filters=(16, 16))
    x = res_identity(x, filters=(16, 16))

    x = res_conv(x, s=2, filters=(32, 32))
    x = res_identity(x, filters=(32, 32))

    x = res_conv(x, s=2, filters=(64, 64))
    x = res_identity(x, filters=(64, 64))

    x = res_conv(x, s=2, filters=(128, 128))
    x = res_identity(x, filters=(128, 128))

    x = Flatten()(x)
    x = Dense(128, activation="relu")(x)
    x = Dense(4, activation="softmax")(x)

    return Model(inputs=input_im, outputs=x)
