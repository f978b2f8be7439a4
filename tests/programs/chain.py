class ConfigError(Exception):
    pass


def read(key):
    table = {"a": 1}
    return table[key]


def config(key):
    try:
        return read(key)
    except KeyError as e:
        raise ConfigError("missing " + key) from e


def main():
    try:
        config("b")
    except ConfigError:
        value = None
        raise ValueError("no config") 


main()
