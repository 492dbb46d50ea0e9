from .cli import run

if __name__ == "__main__":  # `--dask local` starts worker processes that import this module again
    run()
